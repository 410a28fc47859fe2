import SealedSupport

/// Proving who one is to a server without handing it a secret: a signed `GetCallerIdentity` the server forwards to
/// STS (``WireShapes/SignedCallerIdentity``).
extension STSClient: CallerIdentityResolver {
    /// A `GetCallerIdentity` request signed with this client's credentials for its endpoint, naming `audience` (the
    /// server's id) in a signed header, and not sent: the caller hands it to that server.
    public func signedCallerIdentity(audience: String) async throws -> SignedCallerIdentity {
        SignedCallerIdentity(
            headers: try await transport.sign(
                body: Array(SignedCallerIdentity.body.utf8),
                headers: [
                    (name: "Content-Type", value: STSProtocol.contentType),
                    (name: SignedCallerIdentity.audienceHeader, value: audience),
                ]
            )
        )
    }

    /// Asks STS who signed `request`: sends it, unchanged, to this client's endpoint, and returns STS's answer.
    ///
    /// The request must be signed for this endpoint's host (its `Host` header): it is never sent anywhere else.
    ///
    /// - Throws: ``WireShapes/CallerIdentityRefusal`` `wrongEndpoint` for another host, `rejectedBySTS` when STS refuses
    ///   it (its message is STS's), `stsUnavailable` when STS cannot be reached or answers something else.
    public func callerIdentity(of request: SignedCallerIdentity) async throws(CallerIdentityRefusal)
        -> GetCallerIdentityResponse
    {
        guard request.value(of: "Host") == transport.host else {
            throw CallerIdentityRefusal(
                .wrongEndpoint,
                "the request is signed for \(request.value(of: "Host") ?? "no host"), not this server's STS (\(transport.host))"
            )
        }
        let identity: GetCallerIdentityResponse
        do {
            identity = try await transport.sendPresigned(
                operation: "GetCallerIdentity",
                body: Array(request.requestBody.utf8),
                headers: request.headers
            ) { response in
                try Self.answer(response, to: "GetCallerIdentity", decode: Self.callerIdentity)
            }
        } catch let error as STSError where !error.isRetryable {
            throw CallerIdentityRefusal(.rejectedBySTS, "STS refused the signed request: \(error)")
        } catch {
            throw CallerIdentityRefusal(.stsUnavailable, "STS could not confirm the caller: \(error)")
        }
        guard let arn = identity.arn, !arn.isEmpty else {
            throw CallerIdentityRefusal(.stsUnavailable, "STS answered without the caller's ARN")
        }
        return identity
    }
}
