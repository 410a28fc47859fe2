public import AccessControl
public import Foundation
public import SigV4

/// How the server knows its callers: the secret of each access key id, and the principal it belongs to, read in one
/// lookup (on PostgreSQL one round trip per request, and no moment between two reads at which the key could change).
///
/// A closure, so that any identity store can serve it (the credential store of `sealed serve`, a fixed table in
/// tests). It is not asked before the request is well formed, correctly scoped and fresh, and the principal
/// (``SigV4/Verifier/Secret/owner``) is used only after the signature has verified.
public struct Authentication: Sendable {
    /// The secret (and session token, for temporary credentials) of an access key id, with the principal ARN it
    /// belongs to as the secret's `owner`; a secret without an owner is refused (`UnrecognizedClientException`).
    public var credentials: Verifier.CredentialLookup

    public init(credentials: @escaping Verifier.CredentialLookup) {
        self.credentials = credentials
    }

    /// The access keys of a credential store: active keys only, sessions with their token and expiration.
    public static func store(_ store: any CredentialStore) -> Authentication {
        Authentication(
            credentials: { id in
                guard let key = try await store.accessKey(id: id), key.status == .active else { return nil }
                return Verifier.Secret(
                    secretAccessKey: key.secretAccessKey,
                    sessionToken: key.sessionToken,
                    expiration: key.expiration,
                    owner: key.principalARN
                )
            }
        )
    }

    /// A fixed set of long-term credentials, each belonging to a principal: for tests and development.
    public static func fixed(_ users: [User]) -> Authentication {
        var table: [String: User] = [:]
        for user in users { table[user.accessKeyId] = user }
        let directory = table
        return Authentication(
            credentials: { accessKeyId in
                directory[accessKeyId].map {
                    Verifier.Secret(
                        secretAccessKey: $0.secretAccessKey,
                        sessionToken: $0.sessionToken,
                        expiration: $0.expiration,
                        owner: $0.principalARN
                    )
                }
            }
        )
    }

    /// One entry of ``fixed(_:)``.
    public struct User: Sendable, CustomStringConvertible, CustomReflectable {
        public var accessKeyId: String
        public var secretAccessKey: String
        public var sessionToken: String?
        public var expiration: Date?
        public var principalARN: String

        public init(
            accessKeyId: String,
            secretAccessKey: String,
            principalARN: String,
            sessionToken: String? = nil,
            expiration: Date? = nil
        ) {
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.principalARN = principalARN
            self.sessionToken = sessionToken
            self.expiration = expiration
        }

        /// Names the access key id and the principal; the secret never prints.
        public var description: String { "User(\(accessKeyId), \(principalARN))" }
        public var customMirror: Mirror {
            Mirror(self, children: ["accessKeyId": accessKeyId, "principalARN": principalARN])
        }
    }
}
