import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head is not complete within a time limit of its first byte: the defence
/// against slow-loris clients, which send a head one byte at a time (each byte resets the idle timeout, so that alone
/// would keep the connection slot forever).
///
/// Two handlers share one ``Clock``: ``HeaderTimeout/ByteWatcher`` at the front of the pipeline sees the first raw
/// byte of each request and arms the timer; ``HeaderTimeout`` behind the HTTP decoder sees the request's head and
/// disarms it, and after the request's end waits for the next request's first byte. A connection waiting between
/// requests with nothing sent is the idle timeout's business, not this one's.
final class HeaderTimeout: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The state both handlers share (they run on the channel's event loop).
    final class Clock {
        let limit: TimeAmount
        /// Waiting for a request head (from the connection's start, and after each request's end).
        var waitingForHead = true
        var timer: Scheduled<Void>?

        init(limit: TimeAmount) { self.limit = limit }

        /// A byte arrived: when it begins a head, the head must be complete within the limit.
        func byteArrived(context: ChannelHandlerContext) {
            guard waitingForHead, timer == nil else { return }
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
        }

        func cancel() {
            timer?.cancel()
            timer = nil
        }
    }

    /// The raw-byte side, placed before the HTTP decoder.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        let clock: Clock

        init(clock: Clock) { self.clock = clock }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            clock.byteArrived(context: context)
            context.fireChannelRead(data)
        }
    }

    let clock: Clock

    init(limit: TimeAmount) { clock = Clock(limit: limit) }

    /// Puts the raw-byte side at the front of the pipeline.
    func handlerAdded(context: ChannelHandlerContext) {
        do {
            try context.pipeline.syncOperations.addHandler(ByteWatcher(clock: clock), position: .first)
        } catch {
            context.fireErrorCaught(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { clock.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            clock.waitingForHead = false
            clock.cancel()
        case .end:
            clock.waitingForHead = true
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.cancel()
        context.fireChannelInactive()
    }
}
