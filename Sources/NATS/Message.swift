/// A message received from NATS.
public struct Message: Sendable, Hashable {
    /// The subject it was published to.
    public var subject: String
    /// The reply subject, if the publisher set one.
    public var replyTo: String?
    /// The headers, if it was sent with any (`HMSG`).
    public var headers: Headers?
    /// The payload.
    public var payload: [UInt8]

    /// Creates a message.
    public init(subject: String, replyTo: String? = nil, headers: Headers? = nil, payload: [UInt8]) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    /// The status code of a server-generated control message (503, 404, 408, …), if any.
    public var status: Int? { headers?.status }
}
