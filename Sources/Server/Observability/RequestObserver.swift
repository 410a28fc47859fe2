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
/// ``KMS/KMSError`` nor another `HTTPResponseError` become `KMSInternalException` (500) and are logged by type only.
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
