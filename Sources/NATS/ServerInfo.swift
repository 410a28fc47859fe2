/// What a server says about itself in `INFO`.
///
/// Only the fields this client uses are decoded; unknown fields are ignored.
public struct ServerInfo: Sendable, Hashable, Decodable {
    /// The server's unique id.
    public var serverID: String
    /// The server's name (`--server_name`), when set.
    public var serverName: String?
    /// The server's version, for example `2.9.10`.
    public var version: String
    /// The protocol version; 1 supports dynamic INFO.
    public var proto: Int?
    /// The largest payload (headers included) the server accepts.
    public var maxPayload: Int
    /// Whether the server supports message headers.
    public var headers: Bool?
    /// Whether the client must authenticate.
    public var authRequired: Bool?
    /// Whether the server requires TLS (which this client does not speak).
    public var tlsRequired: Bool?
    /// Other client URLs of the cluster (`host:port`), when the server advertises them.
    public var connectURLs: [String]?
    /// Whether JetStream is enabled on the server.
    public var jetStream: Bool?
    /// Whether the server is in lame duck mode (about to shut down).
    public var lameDuckMode: Bool?

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version
        case proto
        case maxPayload = "max_payload"
        case headers
        case authRequired = "auth_required"
        case tlsRequired = "tls_required"
        case connectURLs = "connect_urls"
        case jetStream = "jetstream"
        case lameDuckMode = "ldm"
    }
}
