public import Composition
public import HTTPTypes
public import Hummingbird
import WireShapes

/// A publish governance refused, on the `/v1` API: 400 with the rule as the error code,
/// `{"__type": "<rule>", "message": "<why>"}`.
extension GovernanceRefusal: HTTPResponseError {
    public var status: HTTPResponse.Status { .badRequest }

    public func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        PlatformJSON.error(code: rule.rawValue, message: message, status: status)
    }
}
