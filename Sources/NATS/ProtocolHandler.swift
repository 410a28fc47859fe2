import Logging
import NIOCore

/// The channel handler of one connection: parses what the server sends, runs the handshake, answers
/// server pings, and hands everything else to the ``Connection``. Lives on its channel's event loop.
final class ProtocolHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage {
        case awaitingInfo
        case awaitingPong
        case connected
        case failed
    }

    private let connection: Connection
    private let epoch: UInt64
    private let server: ServerAddress
    private let handshake: EventLoopPromise<Void>
    private let logger: Logger
    private var parser = ProtocolParser()
    private var stage = Stage.awaitingInfo

    init(
        connection: Connection,
        epoch: UInt64,
        server: ServerAddress,
        handshake: EventLoopPromise<Void>,
        logger: Logger
    ) {
        self.connection = connection
        self.epoch = epoch
        self.server = server
        self.handshake = handshake
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard stage != .failed else { return }
        let buffer = unwrapInboundIn(data)
        parser.append(buffer.readableBytesView)
        do {
            while stage != .failed, let operation = try parser.next() {
                try handle(operation, context: context)
            }
        } catch {
            let failure = error as? NATSError ?? NATSError.protocolError("\(error)")
            if stage == .connected {
                logger.warning("NATS connection failed", metadata: ["server": "\(server)", "error": "\(failure)"])
            }
            stage = .failed
            handshake.fail(failure)
            context.close(promise: nil)
        }
    }

    private func handle(_ operation: ServerOp, context: ChannelHandlerContext) throws {
        switch (stage, operation) {
        case (.awaitingInfo, .info(let info)):
            let bytes = try connection.handshake(epoch: epoch, channel: context.channel, info: info, server: server)
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            stage = .awaitingPong
        case (.awaitingInfo, _):
            throw NATSError.protocolError("the server did not start with INFO")
        case (_, .ping):
            var buffer = context.channel.allocator.buffer(capacity: 8)
            ProtocolEncoder.pong(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case (.awaitingPong, .pong):
            stage = .connected
            connection.handshakeCompleted(epoch: epoch)
            handshake.succeed()
        case (.awaitingPong, .err(let text)):
            let lowered = text.lowercased()
            if lowered.contains("authorization") || lowered.contains("authentication") {
                throw NATSError(.authorizationViolation, "the server rejected the credentials: \(text)")
            }
            throw NATSError(.serverError, "the server refused the connection: \(text)")
        case (.connected, .pong):
            connection.pongReceived(epoch: epoch)
        case (_, .msg(let message)):
            connection.deliver(message)
        case (_, .info(let info)):
            connection.infoUpdated(epoch: epoch, info: info)
        case (.connected, .err(let text)):
            connection.serverError(text)
        case (_, .ok), (_, .pong), (_, .err):
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(NATSError(.connectionFailed, "the server closed the connection during the handshake"))
        connection.channelClosed(epoch: epoch)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("NATS channel error", metadata: ["server": "\(server)", "error": "\(error)"])
        handshake.fail(NATSError(.connectionFailed, "channel error: \(error)"))
        context.close(promise: nil)
    }
}
