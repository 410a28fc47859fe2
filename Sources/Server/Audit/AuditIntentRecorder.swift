import AuditTrail
import Hummingbird
import NIOCore

/// The part of auditing that runs once a request's signature verified, in front of its handler (see
/// ``AuditRecorder``): it hands the authenticated body to the request's ``AuditNote`` and, for a request that changes
/// state, writes the intent record and waits until it is durable. When the intent cannot be written the request fails
/// with an internal error and its handler never runs. A `/v1` change's intent is written by its route's registration
/// instead, once it parsed the body and noted the parameters (see `RouterMethods.on(_:input:use:)`), still before
/// anything else happens.
struct AuditIntentRecorder: RouterMiddleware {
    typealias Context = AuthenticatedContext

    func handle(
        _ request: Request,
        context: AuthenticatedContext,
        next: @concurrent (Request, AuthenticatedContext) async throws -> Response
    ) async throws -> Response {
        guard let note = context.auditNote else { return try await next(request, context) }
        guard context.principal.signedBody else {
            // A publish stream's body is read as it arrives, by its route, which records each group of events.
            try await note.authenticated(request, body: ByteBuffer(), mutating: true)
            return try await next(request, context)
        }
        var request = request
        // The SigV4 middleware collected the body (within the server's limit) to verify it: this is that buffer.
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        try await note.authenticated(request, body: body, mutating: AuditRecorder.isMutating(request, body: body))
        return try await next(request, context)
    }
}
