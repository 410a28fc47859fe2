import NIOCore

@testable import NATS

/// The ``ProtocolDecoder`` fed by hand, the way `ByteToMessageHandler` feeds it: append bytes as they
/// arrive, take operations until `nil`. Read bytes are discarded now and then, as NIO does, so the
/// decoder is also exercised over a buffer whose indices move.
struct ProtocolParser {
    private var decoder: ProtocolDecoder
    private var buffer = ByteBuffer()

    init(maxControlLine: Int = 64 * 1024, maxPayload: Int = 64 * 1024 * 1024) {
        decoder = ProtocolDecoder(maxControlLine: maxControlLine, maxPayload: maxPayload)
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        if buffer.readerIndex > 0, buffer.readerIndex >= buffer.readableBytes {
            buffer.discardReadBytes()
        }
        buffer.writeBytes(bytes)
    }

    mutating func next() throws -> ServerOp? {
        try decoder.decode(buffer: &buffer)
    }
}
