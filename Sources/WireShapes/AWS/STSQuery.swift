import SealedSupport

/// The form bodies of the STS query protocol (`application/x-www-form-urlencoded`), written by the client and read by
/// the server, and the requests the server reads from them.
package enum STSForm {
    /// A body as the AWS SDKs write it (botocore's `urlencode`): each name and value percent-encoded with RFC 3986's
    /// unreserved characters kept and a space written `+`, joined by `&`. AWS accepts `%20` too, but a service that
    /// checks the signature over the form it re-encodes (moto) only matches this spelling.
    package static func encode(_ parameters: [(name: String, value: String)]) -> String {
        func encode(_ text: String) -> String {
            text.split(separator: " ", omittingEmptySubsequences: false).map { PercentEncoding.encode($0) }
                .joined(separator: "+")
        }
        return parameters.map { "\(encode($0.name))=\(encode($0.value))" }.joined(separator: "&")
    }

    /// The fields of a body: `+` is a space, then escapes are decoded. A name or value whose escapes are bad or do not
    /// decode to UTF-8 is kept as sent; invalid UTF-8 in the body is repaired; a name given twice keeps its last value.
    /// The body is split and `+` replaced as bytes (as `Character`s, a `&`, `=` or `+` followed by a combining mark
    /// would not match).
    package static func decode(_ body: some Collection<UInt8>) -> [String: String] {
        func decode(_ bytes: ArraySlice<UInt8>) -> String {
            let spaced = String(decoding: bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            return PercentEncoding.decodeStrictly(spaced) ?? String(decoding: bytes, as: UTF8.self)
        }
        var fields: [String: String] = [:]
        for pair in Array(body).split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

/// An STS request the server answers, read from its form body.
package enum STSQueryRequest: Hashable, Sendable {
    case assumeRole(roleArn: String, sessionName: String, durationSeconds: Int?)
    case getCallerIdentity

    /// Reads a request from a body's fields.
    ///
    /// - Throws: ``STSError`` as STS answers: `MissingAction`, `InvalidAction` (another action), `MissingParameter`
    ///   (no `RoleArn` or `RoleSessionName`), `ValidationError` (a `DurationSeconds` that is not a number); each 400.
    package init(fields: [String: String]) throws(STSError) {
        switch fields["Action"] {
        case "AssumeRole":
            guard let roleArn = fields["RoleArn"] else { throw .missingParameter("RoleArn") }
            guard let sessionName = fields["RoleSessionName"] else { throw .missingParameter("RoleSessionName") }
            var duration: Int?
            if let text = fields["DurationSeconds"] {
                guard let value = Int(text) else {
                    throw STSError(code: .validationError, message: "DurationSeconds must be a number.")
                }
                duration = value
            }
            self = .assumeRole(roleArn: roleArn, sessionName: sessionName, durationSeconds: duration)
        case "GetCallerIdentity":
            self = .getCallerIdentity
        case let action?:
            throw STSError(code: "InvalidAction", message: "Could not find operation \(action) for version 2011-06-15")
        case nil:
            throw STSError(code: "MissingAction", message: "Missing Action")
        }
    }

    /// The request's fields as the client sends them.
    package var parameters: [(name: String, value: String)] {
        switch self {
        case .assumeRole(let roleArn, let sessionName, let duration):
            var parameters = [
                (name: "Action", value: "AssumeRole"), (name: "Version", value: STSProtocol.version),
                (name: "RoleArn", value: roleArn), (name: "RoleSessionName", value: sessionName),
            ]
            if let duration { parameters.append((name: "DurationSeconds", value: String(duration))) }
            return parameters
        case .getCallerIdentity:
            return [(name: "Action", value: "GetCallerIdentity"), (name: "Version", value: STSProtocol.version)]
        }
    }
}

extension STSError {
    static func missingParameter(_ name: String) -> STSError {
        STSError(code: "MissingParameter", message: "The request must contain the parameter \(name)")
    }
}
