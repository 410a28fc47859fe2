import HTTPTypes
import Hummingbird
import WireShapes

extension RouterMethods {
    /// Registers `handler` for a declared `/v1` route: its method and path come from the declaration, as do the
    /// operation name of its audit records (``AuditRecorder``) and the README's route table.
    @discardableResult
    func on(
        _ route: PlatformRoute,
        use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator
    ) -> Self {
        guard let method = HTTPRequest.Method(route.method) else { preconditionFailure("\(route): not an HTTP method") }
        return on(RouterPath(route.path), method: method, use: handler)
    }
}
