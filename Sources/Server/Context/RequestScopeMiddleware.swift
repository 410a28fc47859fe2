public import Composition
public import Hummingbird

/// Runs each request inside the storage back end's ``Composition/RequestScope``.
public struct RequestScopeMiddleware: RouterMiddleware {
    public typealias Context = ServerContext

    let scope: any RequestScope

    public init(scope: any RequestScope) { self.scope = scope }

    public func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        try await scope.run(isolation: nil) { try await next(request, context) }
    }
}
