/// One route of the `/v1` API, declared once: its method, its path under `/v1` (`:name` marks a parameter), and the
/// operation name its audit records carry (`eventName`). The server registers its handler for it, the audit recorder
/// names requests by it, the CLI builds its paths from it, and the README's route table lists it.
public struct PlatformRoute: Sendable, Hashable, CustomStringConvertible {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    public let method: String
    /// The path under `/v1/`, e.g. `iam/teams/:team/members`.
    public let path: String
    /// The operation name, e.g. `AddUserToTeam`.
    public let operation: String

    init(_ method: String, _ path: String, _ operation: String) {
        self.method = method
        self.path = path
        self.operation = operation
    }

    /// `POST /v1/iam/teams/:team/members`.
    public var description: String { "\(method) /v1/\(path)" }

    /// The path's segments, parameters as `:name`.
    public var pattern: [Substring] { path.split(separator: "/") }

    /// Whether a request path's segments under `/v1` match this route's (a parameter matches any one segment).
    public func matches(method: String, segments: some Collection<String>) -> Bool {
        method == self.method && segments.count == pattern.count
            && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
    }

    /// The path segments with the parameters filled in, in order (each unencoded; the client encodes them).
    public func segments(_ parameters: [String]) -> [String] {
        var values = parameters.makeIterator()
        let filled = pattern.map { $0.hasPrefix(":") ? values.next() : String($0) }
        precondition(!filled.contains(nil) && values.next() == nil, "\(self): wrong number of parameters")
        return filled.compactMap { $0 }
    }
}
