import Foundation
import NIOCore

/// One operation the server sent.
enum ServerOp: Sendable, Equatable {
    case info(ServerInfo)
    case msg(InboundMessage)
    case ping
    case pong
    case ok
    case err(String)
}

/// A `MSG` or `HMSG` as parsed, before it is routed to a subscription.
struct InboundMessage: Sendable, Equatable {
    var subject: String
    var sid: UInt64
    var replyTo: String?
    var headers: Headers?
    var payload: [UInt8]

    var message: Message { Message(subject: subject, replyTo: replyTo, headers: headers, payload: payload) }
}

/// The server side of the NATS client protocol as a NIO decoder: bytes in, ``ServerOp``s out.
///
/// It takes any split of the stream (byte by byte, or frames spanning reads). Malformed input throws a
/// ``NATSError`` with code ``NATSError/Code/protocolError``; after that the decoder stays failed, and the
/// connection must be dropped. Limits: a control line longer than `maxControlLine` bytes and a message
/// body longer than `maxPayload` bytes are errors, so a hostile peer cannot make it buffer without bound.
struct ProtocolDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ServerOp

    /// The control line of a `MSG`/`HMSG` whose body has not fully arrived.
    private struct Frame {
        var subject: String
        var sid: UInt64
        var replyTo: String?
        var headerLength: Int
        var totalLength: Int
    }

    private enum Stage {
        /// Waiting for a control line; `scanned` readable bytes are known to hold no LF, so byte-at-a-time
        /// input does not rescan the line.
        case controlLine(scanned: Int)
        case body(Frame)
        case failed(NATSError)
    }

    let maxControlLine: Int
    let maxPayload: Int
    private var stage = Stage.controlLine(scanned: 0)

    init(maxControlLine: Int = 64 * 1024, maxPayload: Int = 64 * 1024 * 1024) {
        self.maxControlLine = maxControlLine
        self.maxPayload = maxPayload
    }

    /// The next complete operation, or `nil` when more bytes are needed.
    ///
    /// - Throws: ``NATSError/Code/protocolError`` on malformed input (and on every later call).
    mutating func decode(buffer: inout ByteBuffer) throws -> ServerOp? {
        do {
            switch stage {
            case .failed(let error):
                throw error
            case .body(let frame):
                return try decodeBody(frame, from: &buffer)
            case .controlLine(let scanned):
                return try decodeControlLine(from: &buffer, scanned: scanned)
            }
        } catch let error as NATSError {
            stage = .failed(error)
            throw error
        }
    }

    /// At end of stream an incomplete operation is dropped with the connection.
    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ServerOp? {
        try decode(buffer: &buffer)
    }

    private mutating func decodeControlLine(from buffer: inout ByteBuffer, scanned: Int) throws -> ServerOp? {
        let lineFeed = buffer.withUnsafeReadableBytes { bytes in
            bytes[min(scanned, bytes.count)...].firstIndex(of: 10)
        }
        guard let lineFeed else {
            stage = .controlLine(scanned: buffer.readableBytes)
            if buffer.readableBytes > maxControlLine {
                throw NATSError.protocolError("control line longer than \(maxControlLine) bytes")
            }
            return nil
        }
        guard lineFeed > 0, buffer.getInteger(at: buffer.readerIndex + lineFeed - 1, as: UInt8.self) == 13 else {
            throw NATSError.protocolError("control line ends with a bare LF")
        }
        let lineLength = lineFeed - 1
        guard lineLength <= maxControlLine else {
            throw NATSError.protocolError("control line longer than \(maxControlLine) bytes")
        }
        let line = buffer.readableBytesView.prefix(lineLength)
        buffer.moveReaderIndex(forwardBy: lineFeed + 1)
        stage = .controlLine(scanned: 0)
        return try decodeOperation(line, from: &buffer)
    }

    private mutating func decodeOperation(_ line: ByteBufferView, from buffer: inout ByteBuffer) throws -> ServerOp? {
        let nameEnd = line.firstIndex(where: { $0 == 32 || $0 == 9 }) ?? line.endIndex
        let name = String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self).uppercased()
        let arguments = line[nameEnd...]
        switch name {
        case "PING":
            return .ping
        case "PONG":
            return .pong
        case "+OK":
            return .ok
        case "-ERR":
            var text = String(decoding: arguments, as: UTF8.self).trimmingASCIISpaces()
            if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") { text = String(text.dropFirst().dropLast()) }
            return .err(text)
        case "INFO":
            do {
                return .info(try JSONDecoder().decode(ServerInfo.self, from: Data(arguments)))
            } catch {
                throw NATSError.protocolError("INFO is not valid JSON")
            }
        case "MSG":
            let fields = Self.split(arguments)
            guard fields.count == 3 || fields.count == 4 else {
                throw NATSError.protocolError("MSG needs 3 or 4 arguments")
            }
            let total = try Self.size(fields[fields.count - 1])
            let replyTo = fields.count == 4 ? String(decoding: fields[2], as: UTF8.self) : nil
            let frame = try makeFrame(fields[0], fields[1], replyTo, headerLength: 0, totalLength: total)
            return try decodeBody(frame, from: &buffer)
        case "HMSG":
            let fields = Self.split(arguments)
            guard fields.count == 4 || fields.count == 5 else {
                throw NATSError.protocolError("HMSG needs 4 or 5 arguments")
            }
            let headerLength = try Self.size(fields[fields.count - 2])
            let total = try Self.size(fields[fields.count - 1])
            guard headerLength <= total else { throw NATSError.protocolError("HMSG header size exceeds total size") }
            let replyTo = fields.count == 5 ? String(decoding: fields[2], as: UTF8.self) : nil
            let frame = try makeFrame(fields[0], fields[1], replyTo, headerLength: headerLength, totalLength: total)
            return try decodeBody(frame, from: &buffer)
        default:
            throw NATSError.protocolError("unknown protocol operation")
        }
    }

    private func makeFrame(
        _ subjectBytes: ByteBufferView,
        _ sidBytes: ByteBufferView,
        _ replyTo: String?,
        headerLength: Int,
        totalLength: Int
    ) throws -> Frame {
        guard totalLength <= maxPayload else {
            throw NATSError.protocolError("message larger than \(maxPayload) bytes")
        }
        guard let sid = UInt64(String(decoding: sidBytes, as: UTF8.self)) else {
            throw NATSError.protocolError("invalid subscription id")
        }
        let subject = String(decoding: subjectBytes, as: UTF8.self)
        return Frame(subject: subject, sid: sid, replyTo: replyTo, headerLength: headerLength, totalLength: totalLength)
    }

    /// The body of `frame` (headers, payload, CRLF) once it has fully arrived.
    private mutating func decodeBody(_ frame: Frame, from buffer: inout ByteBuffer) throws -> ServerOp? {
        guard buffer.readableBytes >= frame.totalLength + 2 else {
            stage = .body(frame)
            return nil
        }
        let bodyEnd = buffer.readerIndex + frame.totalLength
        guard buffer.getInteger(at: bodyEnd, as: UInt8.self) == 13,
            buffer.getInteger(at: bodyEnd + 1, as: UInt8.self) == 10
        else {
            throw NATSError.protocolError("message body not followed by CRLF")
        }
        var headers: Headers?
        if frame.headerLength > 0, let block = buffer.readBytes(length: frame.headerLength) {
            headers = try Headers.parse(block[...])
        }
        let payload = buffer.readBytes(length: frame.totalLength - frame.headerLength) ?? []
        buffer.moveReaderIndex(forwardBy: 2)
        stage = .controlLine(scanned: 0)
        let message = InboundMessage(
            subject: frame.subject,
            sid: frame.sid,
            replyTo: frame.replyTo,
            headers: headers,
            payload: payload
        )
        return .msg(message)
    }

    private static func split(_ bytes: ByteBufferView) -> [ByteBufferView] {
        bytes.split(whereSeparator: { $0 == 32 || $0 == 9 })
    }

    private static func size(_ bytes: ByteBufferView) throws -> Int {
        guard !bytes.isEmpty, bytes.count <= 12, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let value = Int(String(decoding: bytes, as: UTF8.self))
        else { throw NATSError.protocolError("invalid size field") }
        return value
    }
}
