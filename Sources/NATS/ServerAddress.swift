import SealedSupport

/// Credentials a client presents when the server's `INFO` says `auth_required`.
///
/// The secret never appears in ``description``, logs or errors.
public struct Credentials: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case userPassword(user: String, password: String)
        case token(String)
    }

    let kind: Kind

    /// A user name and password (`--user`/`--pass` on the server).
    public static func userPassword(_ user: String, _ password: String) -> Credentials {
        Credentials(kind: .userPassword(user: user, password: password))
    }

    /// An authorization token (`--auth` on the server).
    public static func token(_ token: String) -> Credentials {
        Credentials(kind: .token(token))
    }

    public var description: String {
        switch kind {
        case .userPassword(let user, _): "user \(user) with password (redacted)"
        case .token: "token (redacted)"
        }
    }
}

/// The address of one NATS server, from a `nats://[user:pass@|token@]host[:port]` URL.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address (IPv6 without brackets).
    public var host: String
    /// The TCP port (4222 unless the URL says otherwise).
    public var port: Int
    /// Credentials from the URL's user info, which take precedence over the connection's for this server.
    public var credentials: Credentials?

    /// Creates an address.
    public init(host: String, port: Int = 4222, credentials: Credentials? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }

    /// The URL without credentials.
    public var description: String {
        host.contains(":") ? "nats://[\(host)]:\(port)" : "nats://\(host):\(port)"
    }

    /// Parses one server URL: `nats://host:port`, `host:port`, `nats://user:pass@host`,
    /// `nats://token@host`, `nats://[::1]:4222`. User info is percent-decoded.
    ///
    /// - Throws: ``NATSError/Code/invalidArgument`` for another scheme (`tls`, `ws`: not supported), an
    ///   empty host, a bad port or a path.
    public init(parsing url: String) throws {
        var rest = Substring(url.trimmingASCIISpaces())
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[rest.startIndex..<schemeEnd.lowerBound].lowercased()
            guard scheme == "nats" else {
                throw NATSError.invalidArgument("unsupported URL scheme \(scheme) (only nats:// is supported)")
            }
            rest = rest[schemeEnd.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else {
            throw NATSError.invalidArgument("a server URL has no path, query or fragment")
        }
        var credentials: Credentials?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[rest.startIndex..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userInfo[userInfo.startIndex..<colon])
                let password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
                credentials = .userPassword(user, password)
            } else {
                credentials = .token(try Self.percentDecoded(userInfo))
            }
        }
        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw NATSError.invalidArgument("unterminated IPv6 host")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw NATSError.invalidArgument("garbage after IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[rest.startIndex..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "@" || $0 == "[" || $0 == "]" }) else {
            throw NATSError.invalidArgument("invalid host in server URL")
        }
        var port = 4222
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw NATSError.invalidArgument("invalid port in server URL")
            }
            port = value
        }
        self.init(host: String(host), port: port, credentials: credentials)
    }

    /// Parses a comma-separated list of server URLs (`nats://h1:4222,nats://h2:4223`).
    ///
    /// - Throws: ``NATSError/Code/invalidArgument`` when an entry is invalid or the list is empty.
    public static func parseList(_ urls: String) throws -> [ServerAddress] {
        let entries = urls.split(separator: ",").map { String($0).trimmingASCIISpaces() }.filter { !$0.isEmpty }
        guard !entries.isEmpty else { throw NATSError.invalidArgument("no server URL given") }
        return try entries.map { try ServerAddress(parsing: $0) }
    }

    /// `text` with its `%XY` escapes decoded.
    ///
    /// - Throws: ``NATSError/Code/invalidArgument`` for a bad escape or a result that is not UTF-8.
    private static func percentDecoded(_ text: Substring) throws -> String {
        guard let decoded = PercentEncoding.decodeStrictly(text) else {
            throw NATSError.invalidArgument("bad percent escape in server URL user info, or not UTF-8")
        }
        return decoded
    }
}
