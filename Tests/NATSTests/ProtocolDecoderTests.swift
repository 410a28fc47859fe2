import NIOCore
import Testing

@testable import NATS

/// ``ProtocolDecoder`` over `ByteBuffer`s split at every byte boundary, driven the way
/// `ByteToMessageHandler` drives it: decode until `nil`, then wait for more bytes.
@Suite struct ProtocolDecoderTests {
    /// Decodes `parts` as successive reads; read bytes are discarded between reads, as NIO does.
    static func decode(_ parts: [ArraySlice<UInt8>], decoder: ProtocolDecoder = ProtocolDecoder()) throws -> [ServerOp]
    {
        var decoder = decoder
        var buffer = ByteBuffer()
        var operations: [ServerOp] = []
        for part in parts {
            buffer.discardReadBytes()
            buffer.writeBytes(part)
            while let operation = try decoder.decode(buffer: &buffer) { operations.append(operation) }
        }
        while let operation = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { operations.append(operation) }
        return operations
    }

    @Test func everySplitOfTheStreamDecodesLikeTheWhole() throws {
        let stream = ProtocolParserTests.stream
        let whole = try Self.decode([stream[...]])
        try #require(whole.count == 11)
        for split in 0...stream.count {
            let operations = try Self.decode([stream[..<split], stream[split...]])
            #expect(operations == whole, "split at byte \(split)")
        }
    }

    @Test func everyPairOfSplitsAroundAFrameDecodesLikeTheWhole() throws {
        let frame = Array("HMSG h.s 3 _INBOX.a 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: 2\r\n\r\nworld\r\nPING\r\n".utf8)
        let whole = try Self.decode([frame[...]])
        try #require(whole.count == 2)
        for first in 0...frame.count {
            for second in first...frame.count {
                let operations = try Self.decode([frame[..<first], frame[first..<second], frame[second...]])
                #expect(operations == whole, "splits at bytes \(first) and \(second)")
            }
        }
    }

    @Test(arguments: ProtocolParserTests.malformed.filter { $0.utf8.count < 100 })
    func malformedInputFailsAtEverySplit(input: String) {
        let bytes = Array(input.utf8)
        for split in 0...bytes.count {
            #expect(throws: NATSError(.protocolError, ""), "split at byte \(split)") {
                _ = try Self.decode([bytes[..<split], bytes[split...]])
            }
        }
    }

    @Test func anIncompleteFrameLeavesItsBytesUnread() throws {
        var decoder = ProtocolDecoder()
        var buffer = ByteBuffer(string: "PING\r\nMSG a 1 10\r\n01234")
        #expect(try decoder.decode(buffer: &buffer) == .ping)
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 5)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
    }

    @Test func anOverlongControlLineFailsBeforeItsEnd() {
        var decoder = ProtocolDecoder(maxControlLine: 16, maxPayload: 1024)
        var buffer = ByteBuffer(string: String(repeating: "A", count: 17))
        #expect(throws: NATSError(.protocolError, "")) { try decoder.decode(buffer: &buffer) }
    }
}
