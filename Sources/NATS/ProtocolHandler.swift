import Logging
import NIOCore

/// The channel handler of one connection attempt: hands what the ``ProtocolDecoder`` decoded, and the
/// channel's life, to the ``Connection``, tagged with the attempt's epoch. Lives on its channel's event loop.
final class ProtocolHandler: ChannelInboundHandler {
    typealias InboundIn = ServerOp

    private let connection: Connection
    private let epoch: UInt64
    private let server: ServerAddress
    private let logger: Logger

    init(connection: Connection, epoch: UInt64, server: ServerAddress, logger: Logger) {
        self.connection = connection
        self.epoch = epoch
        self.server = server
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.channelActive(context.channel, epoch: epoch)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.received(unwrapInboundIn(data), epoch: epoch)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed(epoch: epoch)
        context.fireChannelInactive()
    }

    /// Malformed input (a ``NATSError`` from the decoder) or a socket error: the attempt or connection ends.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("NATS channel error", metadata: ["server": "\(server)", "error": "\(error)"])
        let failure = error as? NATSError ?? NATSError(.connectionFailed, "channel error: \(error)")
        connection.channelFailed(failure, epoch: epoch)
        context.close(promise: nil)
    }
}
