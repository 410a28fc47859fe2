public import AccessControl
public import AuditTrail
public import Foundation
import Hummingbird
import NIOCore
import WireShapes
import enum SealedSupport.ISO8601

/// The trail behind `/v1/audit` (reading it is the permission `audit:Read`, on the resource `*`):
///
/// - `GET /v1/audit?after=SEQ&limit=N` — records after a sequence number (`tail`), oldest first;
/// - `GET /v1/audit?key=&principal=&eventType=&eventName=&since=&until=&errorsOnly=true&limit=` — a query;
/// - `GET /v1/audit/export[?since=ISO8601]` — the CloudTrail-style export with its digests, verifiable offline;
/// - `GET /v1/audit/public-key` — the PEM public key of the digests (compare it with DIR/audit-public-key.pem);
/// - `GET /v1/access/usage[?since=&until=]` — decrypts and denials per event type and principal.
public struct AuditRoutes: Sendable {
    public let store: any AuditStore
    public let identities: IdentityService
    /// Writes an export of the records from a sequence number to a file.
    public let export: @Sendable (_ file: URL, _ fromSequence: Int64) async throws -> Void
    /// The first sequence number at or after a date.
    public let firstSequence: @Sendable (_ since: Date) async throws -> Int64?
    /// The public key (PEM) that verifies digests and exports, served at `GET /v1/audit/public-key`.
    public let publicKeyPEM: String
    /// Verifies the live trail (chain, digests, anchor) as `sealed audit verify` does; `nil` when it cannot be.
    public let verify: (@Sendable () async throws -> VerificationReport)?

    public init(
        store: any AuditStore,
        identities: IdentityService,
        export: @escaping @Sendable (URL, Int64) async throws -> Void,
        firstSequence: @escaping @Sendable (Date) async throws -> Int64?,
        publicKeyPEM: String,
        verify: (@Sendable () async throws -> VerificationReport)? = nil
    ) {
        self.publicKeyPEM = publicKeyPEM
        self.verify = verify
        self.store = store
        self.identities = identities
        self.export = export
        self.firstSequence = firstSequence
    }

    func register(in group: RouterGroup<AuthenticatedContext>) {
        let v1 = group
        v1.on(.lookupEvents) { request, context in
            try self.authorize(context)
            let parameters = request.uri.queryParameters
            let numbers = QueryParameters(parameters)
            let limit = try numbers.integer("limit", in: 1...1000, default: 100)
            let after = try numbers.integer("after", in: 0...Int64.max, default: 0)
            let query = AuditQuery(
                key: parameters.get("key"),
                principalARN: parameters.get("principal"),
                eventType: parameters.get("eventType"),
                eventName: parameters.get("eventName"),
                since: try Self.date(parameters.get("since"), "since"),
                until: try Self.date(parameters.get("until"), "until"),
                errorsOnly: parameters.get("errorsOnly") == "true",
                afterSequence: after,
                limit: limit
            )
            let records = try await store.query(query)
            let items: [JSONValue] = records.map { stored in
                var object = stored.record.jsonValue
                if case .object(var members) = object {
                    members["sequenceNumber"] = .number(JSONNumber(stored.sequence))
                    object = .object(members)
                }
                return object
            }
            return Self.json(.object(["Records": .array(items)]))
        }
        v1.on(.getPublicKey) { _, _ in
            // Public by nature; still behind SigV4 like everything else. Pin it out of band for real assurance.
            Response(
                status: .ok,
                headers: [.contentType: "application/x-pem-file"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: publicKeyPEM))
            )
        }
        v1.on(.exportEvents) { request, context in
            try self.authorize(context)
            let data = try await exportFile(since: try Self.date(request.uri.queryParameters.get("since"), "since"))
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        v1.on(.getUsageReport) { request, context in
            try self.authorize(context)
            let parameters = request.uri.queryParameters
            let report = try await usageReport(
                since: try Self.date(parameters.get("since"), "since"),
                until: try Self.date(parameters.get("until"), "until")
            )
            let (since, until) = (report.period.start, report.period.end)
            let rows: [JSONValue] = report.rows.map { row in
                .object([
                    "EventType": row.eventType.map(JSONValue.string) ?? .null,
                    "Principal": row.principalARN.map(JSONValue.string) ?? .null,
                    "Decrypts": .number(JSONNumber(row.successfulDecrypts)),
                    "Denials": .number(JSONNumber(row.denials)),
                ])
            }
            return Self.json(
                .object([
                    "Since": .string(ISO8601.format(since)), "Until": .string(ISO8601.format(until)),
                    "Rows": .array(rows),
                ])
            )
        }
    }

    func authorize(_ context: AuthenticatedContext) throws {
        try authorizeRead(context.principal.arn)
    }

    /// Whether `principal` may read the trail: `audit:Read` on it.
    package func mayRead(_ principal: String) -> Bool {
        identities.isAllowed(principal, "audit:Read", on: PlatformARN.auditTrail(account: identities.account))
    }

    /// Refuses a `principal` without `audit:Read` on the trail (the API's and the console's check).
    ///
    /// - Throws: ``AccessControl/AccessControlError`` `accessDenied`.
    package func authorizeRead(_ principal: String) throws {
        guard mayRead(principal) else {
            let trail = PlatformARN.auditTrail(account: identities.account)
            throw AccessControlError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: audit:Read on resource: \(trail)"
            )
        }
    }

    /// The export file (``AuditTrail/Export``) of the records from the first at or after `since` (all when `nil`),
    /// with its digests: what `GET /v1/audit/export` answers and `sealed audit verify --file` checks.
    package func exportFile(since: Date?) async throws -> Data {
        var first: Int64 = 1
        if let since {
            guard let sequence = try await firstSequence(since) else {
                return Data(CanonicalJSON.encode(.object(["Records": .array([]), "Digests": .array([])])))
            }
            first = sequence
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sealed-export-\(UUID().uuidString).json"
        )
        defer { try? FileManager.default.removeItem(at: file) }
        try await export(file, first)
        return try Data(contentsOf: file)
    }

    /// Decrypts and denials per event type and principal from `since` (30 days before `until` when `nil`) to
    /// `until` (now when `nil`).
    ///
    /// - Throws: ``AccessControl/AccessControlError`` `validationError` when `since` is after `until`.
    package func usageReport(since: Date?, until: Date?) async throws -> UsageReport {
        let until = until ?? Date()
        let since = since ?? until.addingTimeInterval(-30 * 86_400)
        guard since <= until else { throw AccessControlError(.validationError, "since must not be after until.") }
        return try await store.usageReport(in: DateInterval(start: since, end: until))
    }

    package static func date(_ text: String?, _ name: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw AccessControlError(.validationError, "\(name) must be an ISO 8601 time such as 2026-11-29T10:00:00Z.")
        }
        return date
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(value)))
        )
    }
}
