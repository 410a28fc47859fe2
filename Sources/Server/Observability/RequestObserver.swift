import Foundation
import HTTPTypes
public import Hummingbird
import WireShapes
import Logging
import SealedSupport

/// The outermost middleware: gives each request an AWS request id, turns every error into its response, and records
/// one log line and the metrics of the outcome.
///
/// The log line (`info`) carries the request id, the operation, the outcome, the status and the duration, and the
/// principal once authenticated — never a body, a header value, a secret or key material. Errors that are not
/// ``KMS/KMSError`` nor another `HTTPResponseError` become `KMSInternalException` (500) and are logged by type only,
/// except a dependency that could not be reached (PostgreSQL down): 503 `ServiceUnavailableException`, which clients
/// and AWS SDKs retry.
public struct RequestObserver: RouterMiddleware {
    public typealias Context = ServerContext

    let metrics: RequestMetrics

    public init(metrics: RequestMetrics) { self.metrics = metrics }

    public func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = UUID.random().lowercasedString
        let operation = Self.operation(of: request)
        var context = context
        context.requestID = requestID
        // swift-log's stream handler renders its metadata on every change: below debug, the request id and the
        // operation go only on this middleware's own line.
        if context.logger.logLevel <= .debug {
            context.logger[metadataKey: "aws.request_id"] = "\(requestID)"
            context.logger[metadataKey: "operation"] = "\(operation)"
        }

        var response: Response
        let outcome: String
        do {
            response = try await next(request, context)
            outcome = response.status.code < 400 ? "success" : "HTTP\(response.status.code)"
        } catch let error as KMSError {
            response = try error.response(from: request, context: context)
            outcome = error.code.rawValue
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
            outcome = "HTTP\(error.status.code)"
        } catch let error as any DependencyUnavailable where error.isUnavailability {
            context.logger.warning("request failed: the database is unavailable", metadata: ["error": "\(error)"])
            response = try Self.unavailable(request, context: context)
            outcome = Self.unavailableCode
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            let internalError = KMSError(code: .kmsInternalException, message: "An internal error occurred.")
            response = try internalError.response(from: request, context: context)
            outcome = internalError.code.rawValue
        }
        response.headers[.amznRequestID] = requestID

        let duration = ContinuousClock.now - start
        metrics.record(operation: operation, outcome: outcome, duration: duration)
        let milliseconds = duration.milliseconds
        context.logger.info(
            "request",
            metadata: [
                "aws.request_id": "\(requestID)", "operation": "\(operation)",
                "outcome": "\(outcome)",
                "http.status": "\(response.status.code)",
                "duration_ms": "\(String(format: "%.3f", milliseconds))",
            ]
        )
        return response
    }

    /// The code of a request refused because the database could not be reached.
    static let unavailableCode = "ServiceUnavailableException"

    /// 503 for a request whose database could not be reached, in its API's error shape (`/v1`'s JSON or the AWS JSON
    /// 1.1 of the KMS endpoint): nothing was done, and the same request may succeed once the database is back.
    static func unavailable(_ request: Request, context: ServerContext) throws -> Response {
        let message = "The database is unavailable; the request was not completed. Retry it later."
        if request.uri.path.hasPrefix("/v1/") {
            return PlatformJSON.error(code: unavailableCode, message: message, status: .serviceUnavailable)
        }
        return try KMSError(code: KMSError.Code(rawValue: unavailableCode), message: message, statusCode: 503)
            .response(from: request, context: context)
    }

    /// The metrics label of a request: its KMS or DynamoDB operation, `health`, `metrics`, or `Unknown`.
    static func operation(of request: Request) -> String {
        if let target = request.headers.value(of: .amzTarget) {
            if let operation = KMSOperation(target: target), KMSRoutes.table[operation] != nil {
                return operation.rawValue
            }
            if let operation = DynamoDBOperation(target: target), DynamoDBRoutes.table[operation] != nil {
                return operation.rawValue
            }
            return "Unknown"
        }
        switch request.uri.path {
        case "/health": return "health"
        case "/metrics": return "metrics"
        default: return "Unknown"
        }
    }
}
