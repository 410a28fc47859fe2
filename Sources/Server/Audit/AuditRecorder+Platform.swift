import AuditTrail
import Hummingbird
import SealedEvents

extension AuditRecorder {
    /// Whether a request is a `/v1` call (no `X-Amz-Target`, no STS form, a path under `/v1/`), whose route parses the
    /// body and notes its parameters (``AuditNote/described(_:parameters:)``).
    static func isPlatform(_ request: Request) -> Bool {
        request.headers[.amzTarget] == nil && !STSRoutes.isQuery(request) && request.uri.path.hasPrefix("/v1/")
    }

    /// The `requestParameters` of a `/v1` call, from the body its route parsed (``PlatformBody``).
    static func platformParameters(_ request: Request, _ body: PlatformBody) -> AuditTrail.JSONValue {
        platformParameters(path: request.uri.path, body: body.value.flatMap { recorded($0, depth: 0) })
    }

    /// A parsed body as the audit trail's reader reads the same text (`CanonicalJSON.parse`): an integer when written
    /// as one within 64 bits, else a finite double; `nil` — the body not recorded, as a malformed one — for a number
    /// out of `Double`'s range or arrays and objects nested deeper than the reader's 64 levels.
    static func recorded(_ value: SealedEvents.JSONValue, depth: Int) -> AuditTrail.JSONValue? {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .number(let number):
            if let integer = number.int64Value { return .integer(integer) }
            return number.doubleValue.map(AuditTrail.JSONValue.double)
        case .array(let elements):
            guard depth < maximumRecordedDepth else { return nil }
            var recorded: [AuditTrail.JSONValue] = []
            recorded.reserveCapacity(elements.count)
            for element in elements {
                guard let value = Self.recorded(element, depth: depth + 1) else { return nil }
                recorded.append(value)
            }
            return .array(recorded)
        case .object(let object):
            guard depth < maximumRecordedDepth else { return nil }
            var members: [String: AuditTrail.JSONValue] = [:]
            members.reserveCapacity(object.count)
            for member in object {
                guard let value = Self.recorded(member.value, depth: depth + 1) else { return nil }
                members[member.key] = value
            }
            return .object(members)
        }
    }

    /// The deepest nesting of arrays and objects the audit trail's reader accepts (`RecordReader.options`).
    static let maximumRecordedDepth = 64
}
