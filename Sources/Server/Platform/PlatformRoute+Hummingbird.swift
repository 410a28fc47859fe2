import HTTPTypes
package import Hummingbird
package import WireShapes

extension RouterMethods where Context == AuthenticatedContext {
    /// Registers `handler` for a declared `/v1` route whose body is its input shape: its method and path come from
    /// the declaration, as do the operation name of its audit records (``AuditRecorder``) and the README's route table.
    /// The body is parsed once (``PlatformBody``): its audit parameters are noted, the intent record of a change is
    /// written, and only then is it decoded and `handler` run.
    @discardableResult
    func on<Input: Decodable & Sendable>(
        _ route: PlatformRoute,
        input: Input.Type,
        use handler: @Sendable @escaping (Input, Request, AuthenticatedContext) async throws -> some ResponseGenerator
    ) -> Self {
        on(route) { request, context, body in try await handler(try body.decode(Input.self), request, context) }
    }

    /// Registers `handler` for a declared `/v1` route without an input shape (its body, if any, is still recorded).
    @discardableResult
    package func on(
        _ route: PlatformRoute,
        use handler: @Sendable @escaping (Request, AuthenticatedContext) async throws -> some ResponseGenerator
    ) -> Self {
        on(route) { request, context, _ in try await handler(request, context) }
    }

    /// Registers `handler` for a declared `/v1` route, with the body parsed.
    @discardableResult
    func on(
        _ route: PlatformRoute,
        use handler: @Sendable @escaping (Request, AuthenticatedContext, PlatformBody) async throws
            -> some ResponseGenerator
    ) -> Self {
        guard let method = HTTPRequest.Method(route.method) else { preconditionFailure("\(route): not an HTTP method") }
        return on(RouterPath(route.path), method: method, use: handler)
    }

    /// Registers `handler` for `method` and `path` under `/v1`: reads the body and parses it once, gives the request's
    /// audit note its parameters (which writes the intent record of a change, before anything else happens), then
    /// runs `handler`.
    @discardableResult
    func on(
        _ path: RouterPath,
        method: HTTPRequest.Method,
        use handler: @Sendable @escaping (Request, AuthenticatedContext, PlatformBody) async throws
            -> some ResponseGenerator
    ) -> Self {
        on(path, method: method) { request, context in
            var request = request
            // The SigV4 middleware collected the body (within the server's limit) to verify it: this is that buffer.
            let body = PlatformBody(try await request.collectBody(upTo: .max))
            try await context.auditNote?.described(request, parameters: AuditRecorder.platformParameters(request, body))
            return try await handler(request, context, body).response(from: request, context: context)
        }
    }
}
