import AccessControl
import AuditTrail
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SealedSupport
import Server
import Synchronization

/// The audit pages that are not the trail: the chain's verification, the export and public key downloads, the usage
/// report.
extension Console {
    /// The operation name of a verification run from the console (the API has none; the CLI verifies with
    /// `sealed audit verify`).
    static let verifyName = "VerifyAuditTrail"

    /// Runs an audit page's handler: a principal without `audit:Read` gets a 403 page saying what to ask for.
    func auditPage(_ body: () async throws -> Response) async -> Response {
        await page {
            do {
                return try await body()
            } catch let refused as AuditPagesRefused {
                return message("Audit trail: not allowed", refused.message, status: .forbidden)
            }
        }
    }

    // MARK: Verification

    /// `GET /console/audit/verify`: verifies the whole live chain now (records, digests and the anchor kept beside the
    /// trail, as `sealed audit verify --data-dir` does), shows the outcome and keeps it for the audit page.
    ///
    /// A full pass reads every record, so it runs only when asked (a button on the audit page), never on a page view.
    func verificationPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let call = read(Self.verifyName, Self.trailSource, path: "/console/audit/verify")
        let trail = try await auditor(signedIn, call)
        guard let verify = trail.verify else {
            throw AuditPagesRefused(message: "This server's audit trail cannot be verified from the console.")
        }
        let clock = ContinuousClock()
        let started = clock.now
        let report: VerificationReport
        do {
            report = try await verify()
        } catch {
            try await audit.record(call, caller: signedIn.caller, error: error)
            throw error
        }
        let verification = LastVerification.Outcome(report: report, at: now(), duration: clock.now - started)
        verifications.keep(verification)
        try await audit.record(
            call,
            caller: signedIn.caller,
            response: .object([
                "valid": .bool(report.isValid), "recordsChecked": .number(JSONNumber(Int64(report.recordsChecked))),
            ])
        )
        var values = try await auditChrome(signedIn, title: "Audit trail verification")
        values["verification"] = try await verificationSummary(trail)
        return ConsoleHTTP.page(pages.render("audit-verify", values), status: report.isValid ? .ok : .conflict)
    }

    /// The chain's state for the pages: its head, the newest signed digest (checked against the public key), and the
    /// newest verification run from the console, if any.
    func verificationSummary(_ trail: AuditRoutes) async throws -> [String: Any] {
        let at = now()
        let head = try await trail.store.chainHead()
        var summary: [String: Any] = [
            "headSequence": head.sequence, "headHash": head.hash.hex, "canVerify": trail.verify != nil,
        ]
        if let signed = try await trail.store.latestDigest() {
            let valid = (try? AuditSigningKey.publicKey(pem: trail.publicKeyPEM)).map(signed.isValid(for:)) ?? false
            var digest: [String: Any] = [
                "sequence": signed.digest.digestSequence, "time": Format.date(signed.digest.time, now: at),
                "headSequence": signed.digest.headSequence, "headHash": signed.digest.headHash.hex, "valid": valid,
            ]
            if head.sequence > signed.digest.headSequence {
                digest["unsigned"] = head.sequence - signed.digest.headSequence
            }
            summary["digest"] = digest
        }
        if let last = verifications.outcome {
            var outcome: [String: Any] = [
                "time": Format.date(last.at, now: at), "valid": last.report.isValid,
                "recordsChecked": last.report.recordsChecked, "digestsChecked": last.report.digestsChecked,
                "through": last.report.lastSequence ?? 0, "signedThrough": last.report.lastSignedSequence,
                "duration": Self.seconds(last.duration),
            ]
            if last.report.unsignedRecords > 0 { outcome["unsigned"] = last.report.unsignedRecords }
            if let problem = last.report.problem {
                outcome["problem"] = [
                    "kind": problem.kind.rawValue, "sequence": problem.sequence, "detail": problem.detail,
                ]
            }
            summary["last"] = outcome
        }
        return summary
    }

    /// `0.42 s`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.2f s", Double(milliseconds) / 1000)
    }

    // MARK: Downloads

    /// `GET /console/audit/export[?since=TIME]`: the export file of `sealed audit export` (the API's code path), as an
    /// attachment; `sealed audit verify --file F --public-key PEM` checks it.
    func exportDownload(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let sinceText = request.uri.queryParameters.get("since").flatMap { $0.isEmpty ? nil : $0 }
        var parameters: JSONObject = [:]
        if let sinceText { parameters["since"] = .string(sinceText) }
        let call = read("ExportEvents", Self.trailSource, path: "/console/audit/export", parameters)
        let trail = try await auditor(signedIn, call)
        let data: Data
        do {
            data = try await trail.exportFile(since: try TrailFilters.time(sinceText, "since"))
        } catch {
            try await audit.record(call, caller: signedIn.caller, error: error)
            throw error
        }
        try await audit.record(call, caller: signedIn.caller)
        let stamp = ISO8601.format(now()).replacingOccurrences(of: ":", with: "").replacingOccurrences(
            of: "-",
            with: ""
        )
        return Self.download(data, type: "application/json", name: "sealed-audit-export-\(stamp).json")
    }

    /// `GET /console/audit/public-key`: the PEM that verifies digests and exports, as an attachment (public by
    /// nature: any signed-in principal, as `GET /v1/audit/public-key`).
    func publicKeyDownload(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        guard let trail else { throw AuditPagesRefused(message: "This server has no audit trail.") }
        try await audit.record(
            read("GetPublicKey", Self.trailSource, path: "/console/audit/public-key"),
            caller: signedIn.caller
        )
        return Self.download(
            Data(trail.publicKeyPEM.utf8),
            type: "application/x-pem-file",
            name: "audit-public-key.pem"
        )
    }

    static func download(_ data: Data, type: String, name: String) -> Response {
        var headers = ConsoleHTTP.securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Disposition")!] = "attachment; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Usage

    /// `GET /console/audit/usage[?since=&until=]`: decrypts and denials per event type and principal, as
    /// `GET /v1/access/usage` (the last 30 days unless the form says otherwise).
    func usagePage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let parameters = request.uri.queryParameters
        let sinceText = parameters.get("since").flatMap { $0.isEmpty ? nil : $0 }
        let untilText = parameters.get("until").flatMap { $0.isEmpty ? nil : $0 }
        var recorded: JSONObject = [:]
        if let sinceText { recorded["since"] = .string(sinceText) }
        if let untilText { recorded["until"] = .string(untilText) }
        let call = read("GetUsageReport", .access, path: "/console/audit/usage", recorded)
        let trail = try await auditor(signedIn, call)
        var values = try await auditChrome(signedIn, title: "Usage report")
        values["since"] = sinceText ?? ""
        values["until"] = untilText ?? ""
        let report: UsageReport
        do {
            report = try await trail.usageReport(
                since: try TrailFilters.time(sinceText, "since"),
                until: try TrailFilters.time(untilText, "until")
            )
        } catch let error as AccessControlError {
            try await audit.record(call, caller: signedIn.caller, error: error)
            values["formError"] = error.message
            return ConsoleHTTP.page(pages.render("audit-usage", values), status: .badRequest)
        }
        try await audit.record(call, caller: signedIn.caller)
        values["period"] = "\(ISO8601.format(report.period.start)) to \(ISO8601.format(report.period.end))"
        values["rows"] = report.rows.map { row -> [String: Any] in
            var values: [String: Any] = [
                "eventType": row.eventType ?? "— (none)", "principal": row.principalARN ?? "— (unidentified)",
                "decrypts": row.successfulDecrypts, "denials": row.denials,
            ]
            if let type = row.eventType {
                values["trail"] = "/console/audit?eventType=\(PercentEncoding.encode(type))&eventName=Decrypt"
            }
            return values
        }
        values["hasRows"] = !report.rows.isEmpty
        values["totalDecrypts"] = report.rows.reduce(0) { $0 + $1.successfulDecrypts }
        values["totalDenials"] = report.rows.reduce(0) { $0 + $1.denials }
        return ConsoleHTTP.page(pages.render("audit-usage", values))
    }
}

/// The newest verification of the trail run from the console, shown on the audit page until the next one.
final class LastVerification: Sendable {
    struct Outcome: Sendable {
        var report: VerificationReport
        var at: Date
        var duration: Duration
    }

    private let state = Mutex<Outcome?>(nil)

    var outcome: Outcome? { state.withLock { $0 } }

    func keep(_ outcome: Outcome) { state.withLock { $0 = outcome } }
}
