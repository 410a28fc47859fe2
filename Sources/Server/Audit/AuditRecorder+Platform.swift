import AuditTrail
import Hummingbird

extension AuditRecorder {
    /// Whether a request is a `/v1` call (no `X-Amz-Target`, no STS form, a path under `/v1/`), whose route parses the
    /// body and notes its parameters (``AuditNote/described(_:parameters:)``).
    static func isPlatform(_ request: Request) -> Bool {
        request.headers[.amzTarget] == nil && !STSRoutes.isQuery(request) && request.uri.path.hasPrefix("/v1/")
    }

    /// The `requestParameters` of a `/v1` call, from the body its route parsed (``PlatformBody``).
    static func platformParameters(_ request: Request, _ body: PlatformBody) -> JSONValue {
        platformParameters(path: request.uri.path, body: body.value.flatMap { isRecordable($0, depth: 0) ? $0 : nil })
    }

    /// Whether the audit trail's reader (`CanonicalJSON.parse`) reads the same text: every number within `Double`'s
    /// range, arrays and objects nested at most 64 levels. A body it would refuse is recorded as a malformed one is:
    /// the path alone.
    static func isRecordable(_ value: JSONValue, depth: Int) -> Bool {
        switch value {
        case .null, .bool, .string: true
        case .number(let number): number.int64Value != nil || number.doubleValue != nil
        case .array(let elements):
            depth < maximumRecordedDepth && elements.allSatisfy { isRecordable($0, depth: depth + 1) }
        case .object(let object):
            depth < maximumRecordedDepth && object.allSatisfy { isRecordable($0.value, depth: depth + 1) }
        }
    }

    /// The deepest nesting of arrays and objects the audit trail's reader accepts (`RecordReader.options`).
    static let maximumRecordedDepth = 64
}
