import AsyncHTTPClient
public import Foundation
public import KMS
import NIOCore
import NIOHTTP1

/// Proves the caller's AWS identity to a server in AWS mode (`sealed serve --aws`), the way HashiCorp Vault's AWS IAM
/// auth method does: a `GetCallerIdentity` signed with the caller's own AWS credentials for STS, naming the server's
/// id in a signed header, sent — never the secret — in ``WireShapes/SignedCallerIdentity/header``. The server has STS
/// confirm it and takes the caller's ARN from STS's answer.
///
/// A signed request is reused for ``reuse`` (the server accepts one for 15 minutes), then signed again. The server's
/// id is given, or read once from the server's unauthenticated `GET /v1/server`.
public actor CallerIdentitySigner {
    let sts: STSClient
    let server: URL?
    private var audience: String?
    private var current: (header: String, signed: Date)?
    /// How long one signed request is sent before a new one is signed: 10 minutes.
    public let reuse: TimeInterval = 600

    /// - Parameters:
    ///   - sts: STS with the caller's credentials, at the endpoint the server confirms with.
    ///   - serverID: The server's id; when `nil`, read from `server`'s `GET /v1/server`.
    ///   - server: The platform's URL.
    public init(sts: STSClient, serverID: String? = nil, server: URL? = nil) {
        self.sts = sts
        self.audience = serverID
        self.server = server
    }

    /// The header's value: a signed request made less than ``reuse`` ago, or a new one.
    public func header() async throws -> String {
        if let current, Date().timeIntervalSince(current.signed) < reuse { return current.header }
        let identity = try await sts.signedCallerIdentity(audience: try await serverID())
        current = (identity.encoded, Date())
        return identity.encoded
    }

    /// The server's id, asked once.
    public func serverID() async throws -> String {
        if let audience { return audience }
        guard let server else { throw ClientError(.invalidConfiguration, "no server id and no server to ask it") }
        let base =
            server.absoluteString.hasSuffix("/") ? String(server.absoluteString.dropLast()) : server.absoluteString
        var request = HTTPClientRequest(url: base + "/v1/server")
        request.method = .GET
        let response = try await sharedHTTPClient.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 65_536)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        guard response.status == .ok, object?["Mode"] as? String == "aws", let id = object?["ServerId"] as? String
        else {
            throw ClientError(
                .invalidConfiguration,
                "\(server.absoluteString) is not in AWS mode (GET /v1/server answered \(response.status.code)): drop --aws"
            )
        }
        audience = id
        return id
    }
}
