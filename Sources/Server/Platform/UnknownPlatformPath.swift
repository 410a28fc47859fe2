import Hummingbird
import WireShapes

/// A request to a path under `/v1/` that no operation has (no route matched: Hummingbird's bare `404`) is answered
/// `404` with the platform's error shape, `UnknownOperationException`, so that clients read every refusal the same way.
///
/// It sits at the router's level, around the not-found responder as well as the routes, so it sees the request before
/// authentication: the answer tells an unsigned caller no more than the public OpenAPI document does.
struct UnknownPlatformPath: RouterMiddleware {
    typealias Context = ServerContext

    func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && request.uri.path.hasPrefix("/v1/") {
            return PlatformJSON.error(
                code: "UnknownOperationException",
                message: "No /v1 operation has this method and path.",
                status: .notFound
            )
        }
    }
}
