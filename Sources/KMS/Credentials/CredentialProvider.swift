public import SigV4

/// Supplies the credentials each request is signed with.
///
/// Providers that hold temporary credentials refresh them before they expire; callers ask for credentials per
/// request and never cache them. A provider with nothing to offer (no variables, no such profile) throws
/// ``ClientError`` `credentialsUnavailable`, which lets a ``CredentialChain`` move on to the next provider.
public protocol CredentialProvider: Sendable {
    /// The credentials to sign the next request with.
    ///
    /// - Throws: ``ClientError`` `credentialsUnavailable` when this provider has none; other errors when fetching
    ///   them failed (for example an ``STSError`` from `AssumeRole`).
    func credentials() async throws -> Credentials
}

/// Fixed credentials given by the caller.
public struct StaticCredentialProvider: CredentialProvider, CustomStringConvertible {
    let value: Credentials

    public init(_ credentials: Credentials) { self.value = credentials }

    public func credentials() async throws -> Credentials { value }

    public var description: String { "StaticCredentialProvider(\(value.accessKeyId))" }
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` of an environment.
public struct EnvironmentCredentialProvider: CredentialProvider, CustomStringConvertible {
    let value: Credentials?

    /// Reads the variables once, from the given environment (a dictionary, so tests need not touch the process).
    public init(environment: [String: String]) {
        if let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !secret.isEmpty
        {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            value = Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
        } else {
            value = nil
        }
    }

    /// Whether both variables are set.
    public var isConfigured: Bool { value != nil }

    public func credentials() async throws -> Credentials {
        guard let value else {
            throw ClientError(.credentialsUnavailable, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
        }
        return value
    }

    public var description: String {
        "EnvironmentCredentialProvider(\(value.map(\.accessKeyId) ?? "not configured"))"
    }
}

/// Tries providers in order and uses the first that has credentials.
///
/// A provider that throws ``ClientError`` `credentialsUnavailable` is skipped; any other error stops the chain
/// (a configured profile whose role cannot be assumed is an error, not a reason to fall back).
public struct CredentialChain: CredentialProvider {
    public let providers: [any CredentialProvider]

    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    public func credentials() async throws -> Credentials {
        var reasons: [String] = []
        for provider in providers {
            do {
                return try await provider.credentials()
            } catch let error as ClientError where error.code == .credentialsUnavailable {
                reasons.append(error.reason)
            }
        }
        throw ClientError(
            .credentialsUnavailable,
            "no credentials found: " + (reasons.isEmpty ? "no providers" : reasons.joined(separator: "; "))
        )
    }
}
