/// What the KMS keyring and a branch keystore need of KMS: one generic call per operation.
///
/// ``KMSClient`` sends it over HTTP; the platform also calls its own key service in process through it (as an
/// administrator for its branch keystore, and as a role session when its console opens an event). Service errors
/// are ``KMSError``s.
public protocol KMSAPI: Sendable {
    /// Sends a KMS request and returns its response.
    func send<Request: KMSRequest>(_ request: Request) async throws -> Request.Response
}

extension KMSClient: KMSAPI {}
