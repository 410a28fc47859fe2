/// The messages of one subscription, valid inside the closure given to
/// ``Connection/subscribe(to:queue:_:)``.
///
/// The sequence survives reconnects (the client subscribes again on every new connection). It ends when
/// the closure returns or the connection closes; it throws when the connection closes with an error.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias AsyncIterator = AsyncThrowingStream<Message, any Error>.Iterator

    /// The subject (possibly with wildcards) subscribed to.
    public let subject: String
    /// The queue group, if any.
    public let queue: String?
    let stream: AsyncThrowingStream<Message, any Error>

    public func makeAsyncIterator() -> AsyncIterator { stream.makeAsyncIterator() }
}
