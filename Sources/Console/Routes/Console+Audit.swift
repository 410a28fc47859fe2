import AccessControl
import AuditTrail
import Foundation
import HTTPTypes
import Hummingbird
import SealedSupport
import Server

/// The audit pages, for principals allowed `audit:Read` on the trail (the API's check, ``Server/AuditRoutes``):
/// the trail with the CLI's filters, newest first and paged; a record's full JSON and its place in the hash chain;
/// the chain's verification (``Console/verificationPage(_:context:)``); the export and its public key; the usage
/// report. Each read is audited as the API's call it mirrors (`LookupEvents`, `ExportEvents`, `GetPublicKey`,
/// `GetUsageReport`), with the same parameters.
extension Console {
    /// The event source of the API's `/v1/audit` records.
    static let trailSource = EventSource(rawValue: "sealed.local")
    /// How many records a page of the trail shows unless the link says otherwise.
    static let trailPageSize = 50

    func registerAuditPages(in router: Router<ServerContext>) {
        router.get("/console/audit") { request, context in
            await auditPage { try await trailPage(request, context: context) }
        }
        router.get("/console/audit/records/:sequence") { request, context in
            await auditPage { try await recordPage(request, context: context) }
        }
        router.get("/console/audit/verify") { request, context in
            await auditPage { try await verificationPage(request, context: context) }
        }
        router.get("/console/audit/export") { request, context in
            await auditPage { try await exportDownload(request, context: context) }
        }
        router.get("/console/audit/public-key") { request, context in
            await auditPage { try await publicKeyDownload(request, context: context) }
        }
        router.get("/console/audit/usage") { request, context in
            await auditPage { try await usagePage(request, context: context) }
        }
    }

    // MARK: The trail

    /// `GET /console/audit`: the records matching the filters, newest first, `limit` a page. `before=N` shows the
    /// page below sequence number N (the "Older" link: N is the lowest shown), `after=N` the page just above N (the
    /// "Newer" link: N is the highest shown); neither, the newest.
    func trailPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let parameters = request.uri.queryParameters
        let filters = TrailFilters { parameters.get($0) }
        func number(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
            guard let text = parameters.get(name), !text.isEmpty else { return nil }
            guard let value = Int64(text), range.contains(value) else {
                throw ConsoleRefusal(
                    code: "ValidationException",
                    message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)."
                )
            }
            return value
        }
        let cursor = (
            before: try number("before", in: 1...Int64.max),
            after: try number("after", in: 0...Int64.max),
            limit: Int(try number("limit", in: 1...500) ?? Int64(Self.trailPageSize))
        )
        var recorded = filters.parameters
        if let before = cursor.before { recorded["before"] = .number(JSONNumber(before)) }
        if let after = cursor.after { recorded["after"] = .number(JSONNumber(after)) }
        recorded["limit"] = .number(JSONNumber(Int64(cursor.limit)))
        let lookup = read(Self.trailName, Self.trailSource, path: "/console/audit", recorded)
        let trail = try await auditor(signedIn, lookup)

        var values = try await auditChrome(signedIn, title: "Audit trail")
        values["filters"] = filters.values
        values["limit"] = cursor.limit
        values["exportPath"] =
            "/console/audit/export" + (filters.since.map { "?since=" + PercentEncoding.encode($0) } ?? "")
        values["exportSince"] = filters.since
        values["verification"] = try await verificationSummary(trail)
        let query: AuditQuery
        do {
            query = try filters.query()
        } catch let error as AccessControlError {
            try await audit.record(lookup, caller: signedIn.caller, error: error)
            values["filterError"] = error.message
            return ConsoleHTTP.page(pages.render("audit", values), status: .badRequest)
        }
        let page = try await TrailPage.load(
            trail.store,
            query,
            before: cursor.before,
            after: cursor.after,
            limit: cursor.limit
        )
        try await audit.record(lookup, caller: signedIn.caller)

        let at = now()
        values["records"] = page.records.map { stored in Self.row(stored, now: at) }
        values["hasRecords"] = !page.records.isEmpty
        values["filtered"] = !filters.isEmpty
        var pager: [String: Any] = [:]
        let base =
            "/console/audit?"
            + [filters.queryString, "limit=\(cursor.limit)"].filter { !$0.isEmpty }
            .joined(separator: "&")
        if page.hasNewer, let highest = page.records.first?.sequence {
            pager["newer"] = base + "&after=\(highest)"
        }
        if page.hasNewer || (page.records.isEmpty && (cursor.before != nil || cursor.after != nil)) {
            pager["newest"] = base
        }
        if page.hasOlder, let lowest = page.records.last?.sequence { pager["older"] = base + "&before=\(lowest)" }
        if !pager.isEmpty { values["pager"] = pager }
        return ConsoleHTTP.page(pages.render("audit", values))
    }

    /// `GET /console/audit/records/:sequence`: one record's full JSON (pretty, escaped) and its hash-chain links.
    func recordPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let text = context.parameters.get("sequence") ?? ""
        let path = "/console/audit/records/" + Format.segment(text)
        guard let sequence = Int64(text), sequence > 0 else {
            throw ConsoleRefusal(
                code: "ValidationException",
                message: "A record is named by its sequence number (1 or more)."
            )
        }
        let call = read(Self.trailName, Self.trailSource, path: path, ["sequence": .number(JSONNumber(sequence))])
        let trail = try await auditor(signedIn, call)
        let found = try await trail.store.tail(after: sequence - 1, limit: 1).first { $0.sequence == sequence }
        try await audit.record(call, caller: signedIn.caller)
        guard let stored = found else {
            return message(
                "No such record",
                "The trail has no record \(sequence): its newest is \(try await trail.store.chainHead().sequence).",
                status: .notFound,
                next: "/console/audit",
                nextLabel: "Back to the audit trail"
            )
        }
        var object = stored.record.jsonValue
        if case .object(var members) = object {
            members["sequenceNumber"] = .number(JSONNumber(sequence))
            object = .object(members)
        }
        var values = try await auditChrome(signedIn, title: "Audit record \(sequence)")
        var row = Self.row(stored, now: now())
        row["hash"] = stored.hash.hex
        row["previousHash"] = stored.previousHash.hex
        row["previousPath"] = sequence > 1 ? "/console/audit/records/\(sequence - 1)" : nil
        row["nextPath"] = "/console/audit/records/\(sequence + 1)"
        row["json"] = object.jsonString(pretty: true)
        row["back"] = "/console/audit?limit=\(Self.trailPageSize)&before=\(sequence + 1)"
        values["record"] = row
        return ConsoleHTTP.page(pages.render("audit-record", values))
    }

    // MARK: Helpers

    /// The operation name of the API's trail reads.
    static let trailName = "LookupEvents"

    /// The trail, when the signed-in principal may read it (`audit:Read` on the trail, the API's check).
    ///
    /// - Throws: ``AuditPagesRefused`` otherwise, after auditing `call` as refused.
    func auditor(_ signedIn: SignedIn, _ call: ConsoleAudit.Call) async throws -> AuditRoutes {
        guard let trail else { throw AuditPagesRefused(message: "This server has no audit trail to show.") }
        do {
            try trail.authorizeRead(signedIn.principal.arn)
        } catch let error as AccessControlError {
            try await audit.record(call, caller: signedIn.caller, error: error)
            throw AuditPagesRefused(
                message: "Reading the audit trail needs the permission audit:Read on the trail: \(error.message). "
                    + "An administrator can grant it with an identity policy (to you or your team)."
            )
        }
        return trail
    }

    /// The layout's values of an audit page.
    func auditChrome(_ signedIn: SignedIn, title: String) async throws -> [String: Any] {
        let queue = try await reviewQueue(for: signedIn.principal.arn)
        return chrome(signedIn, title: title, nav: "navAudit", reviewCount: queue.actionable)
    }

    /// A record as a row of the trail.
    static func row(_ stored: StoredRecord, now: Date) -> [String: Any] {
        let record = stored.record
        var row: [String: Any] = [
            "sequence": stored.sequence, "time": Format.date(record.eventTime, now: now),
            "isoTime": ISO8601.format(record.eventTime), "eventName": record.eventName,
            "eventSource": record.eventSource.rawValue, "principal": record.userIdentity.arn ?? "—",
            "eventType": record.contextEventType ?? "—", "key": Format.list(record.keyIdentifiers),
            "sourceIP": record.sourceIPAddress ?? "—", "path": "/console/audit/records/\(stored.sequence)",
            "userAgent": record.userAgent ?? "—",
        ]
        if record.keyIdentifiers.isEmpty { row["key"] = "—" }
        if let code = record.errorCode { row["errorCode"] = code }
        if record.isIntent { row["isIntent"] = true }
        return row
    }
}

/// The signed-in principal may not read the audit trail: a 403 page saying why.
struct AuditPagesRefused: Error {
    var message: String
}

/// The trail page's filters, as the CLI's `sealed audit query` takes them; empty fields are no filter.
struct TrailFilters {
    var key: String?
    var principal: String?
    var eventType: String?
    var eventName: String?
    var since: String?
    var until: String?
    var errorsOnly: Bool

    /// The filters of a page's query parameters (`parameter` looks one up by name).
    init(_ parameter: (String) -> String?) {
        func field(_ name: String) -> String? {
            guard let value = parameter(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        key = field("key")
        principal = field("principal")
        eventType = field("eventType")
        eventName = field("eventName")
        since = field("since")
        until = field("until")
        errorsOnly = parameter("errorsOnly") == "true"
    }

    var isEmpty: Bool {
        key == nil && principal == nil && eventType == nil && eventName == nil && since == nil && until == nil
            && !errorsOnly
    }

    /// The query of the filters (oldest first, no limit: the page sets those).
    ///
    /// - Throws: ``AccessControl/AccessControlError`` `validationError` for a time that is not one.
    func query() throws -> AuditQuery {
        AuditQuery(
            key: key,
            principalARN: principal,
            eventType: eventType,
            eventName: eventName,
            since: try Self.time(since, "since"),
            until: try Self.time(until, "until"),
            errorsOnly: errorsOnly
        )
    }

    /// A time as the form takes it, in UTC: ISO 8601 (`2026-12-05T10:00:00Z`), or without seconds or zone
    /// (`2026-12-05T10:00`, `2026-12-05 10:00`), or a day (`2026-12-05`).
    static func time(_ text: String?, _ name: String) throws -> Date? {
        guard var text else { return nil }
        text = text.replacingOccurrences(of: " ", with: "T")
        if text.utf8.count == 10 { text += "T00:00" }
        let hasZone = text.hasSuffix("Z") || text.dropFirst(10).contains("+") || text.dropFirst(10).contains("-")
        if !hasZone {
            if text.utf8.count == 16 { text += ":00" }
            text += "Z"
        }
        return try AuditRoutes.date(text, name)
    }

    /// The filters as the API's request parameters.
    var parameters: JSONObject {
        var object: JSONObject = [:]
        for (name, value) in [
            ("key", key), ("principal", principal), ("eventType", eventType), ("eventName", eventName),
            ("since", since), ("until", until),
        ] {
            if let value { object[name] = .string(value) }
        }
        if errorsOnly { object["errorsOnly"] = .bool(true) }
        return object
    }

    /// The form's values.
    var values: [String: Any] {
        var values: [String: Any] = [:]
        for (name, value) in [
            ("key", key), ("principal", principal), ("eventType", eventType), ("eventName", eventName),
            ("since", since), ("until", until),
        ] {
            values[name] = value ?? ""
        }
        values["errorsOnly"] = errorsOnly
        return values
    }

    /// The filters as a query string (`key=…&errorsOnly=true`), for the pages' links.
    var queryString: String {
        var pairs: [String] = []
        for (name, value) in [
            ("key", key), ("principal", principal), ("eventType", eventType), ("eventName", eventName),
            ("since", since), ("until", until),
        ] {
            if let value { pairs.append("\(name)=\(PercentEncoding.encode(value))") }
        }
        if errorsOnly { pairs.append("errorsOnly=true") }
        return pairs.joined(separator: "&")
    }
}

/// One page of the trail, newest first, and whether there are matching records beyond it either way.
struct TrailPage {
    var records: [StoredRecord]
    var hasNewer: Bool
    var hasOlder: Bool

    /// The page below `before` (or, with `after`, just above it; with neither, the newest) of the records `query`
    /// matches.
    static func load(
        _ store: any AuditStore,
        _ query: AuditQuery,
        before: Int64?,
        after: Int64?,
        limit: Int
    ) async throws -> TrailPage {
        var query = query
        var records: [StoredRecord]
        if let after {
            query.afterSequence = after
            query.limit = limit
            records = try await store.query(query).reversed()
        } else {
            query.beforeSequence = before
            query.limit = limit
            query.newestFirst = true
            records = try await store.query(query)
        }
        guard let newest = records.first?.sequence, let oldest = records.last?.sequence else {
            return TrailPage(records: [], hasNewer: false, hasOlder: false)
        }
        var probe = query
        probe.limit = 1
        probe.afterSequence = newest
        probe.beforeSequence = nil
        probe.newestFirst = false
        let hasNewer = try await !store.query(probe).isEmpty
        probe.afterSequence = 0
        probe.beforeSequence = oldest
        let hasOlder = try await !store.query(probe).isEmpty
        return TrailPage(records: records, hasNewer: hasNewer, hasOlder: hasOlder)
    }
}
