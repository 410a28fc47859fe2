import AccessControl
import AuditTrail
import Catalog
import Foundation
import Hummingbird
import Server

/// The access matrix: who may read which event type, until when, approved by whom; filters and revocation.
extension Console {
    func registerMatrix(in router: Router<ServerContext>) {
        router.get("/console/access") { request, context in
            await page { try await matrixPage(request, context: context) }
        }
        router.post("/console/access/:id/revoke") { request, context in
            await page { try await revoke(request, context: context) }
        }
    }

    /// `GET /console/access?eventType=&team=&principal=`: the grants in force the principal may see (an
    /// administrator all, others their own and those of the types their teams own), as `GetAccessMatrix`.
    ///
    /// The team filter keeps the grants to the team's members and the grants of the types it owns; the principal
    /// filter matches a grantee's ARN or its last part (a user or role name).
    func matrixPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let arn = signedIn.principal.arn
        let query = request.uri.queryParameters
        let filter = MatrixFilter(
            eventType: query.get("eventType"),
            team: query.get("team"),
            principal: query.get("principal")
        )
        let grants = try await platform.access.matrix(by: arn)
        let queue = try await reviewQueue(for: arn)
        try await audit.record(read("GetAccessMatrix", .access, path: "/console/access", filter.parameters), caller: signedIn.caller)
        let at = now()
        var owners: [String: String] = [:]
        var revocable: [String: Bool] = [:]
        var rows: [[String: Any]] = []
        for grant in grants {
            if owners[grant.eventType] == nil {
                owners[grant.eventType] = await platform.catalog.accessTarget(for: grant.eventType)?.owningTeam ?? "—"
                revocable[grant.eventType] = try await platform.access.mayRevoke(eventType: grant.eventType, by: arn)
            }
            let owner = owners[grant.eventType] ?? "—"
            guard filter.keeps(grant, owner: owner, teamsOf: platform.identities.teams(of:)) else { continue }
            rows.append([
                "requestId": grant.requestID, "eventType": grant.eventType, "eventTypePath": Format.segment(grant.eventType),
                "principal": grant.principal, "owner": owner,
                "approvedBy": Format.list(grant.approvedBy), "approved": Format.date(grant.approvalDate, now: at),
                "until": grant.expirationDate.map { Format.date($0, now: at) } ?? "no end",
                "mayRevoke": revocable[grant.eventType] ?? false, "csrf": signedIn.session.csrfToken,
            ])
        }
        var values = chrome(signedIn, title: "Access", nav: "navAccess", reviewCount: queue.actionable)
        values["grants"] = rows
        values["hasGrants"] = !rows.isEmpty
        values["count"] = rows.count
        values["filtered"] = filter.isActive
        values["filterEventType"] = filter.eventType ?? ""
        values["filterTeam"] = filter.team ?? ""
        values["filterPrincipal"] = filter.principal ?? ""
        return ConsoleHTTP.page(pages.render("access", values))
    }

    /// `POST /console/access/:id/revoke`: as `RevokeAccessRequest` (the owning team or an administrator).
    func revoke(_ request: Request, context: ServerContext) async throws -> Response {
        let (signedIn, form) = try await signedInForm(request, context: context)
        let id = context.parameters.get("id") ?? ""
        let comment = form["comment"] ?? ""
        let call = ConsoleAudit.Call(
            source: .access,
            name: "RevokeAccessRequest",
            parameters: [
                "path": .string("/console/access/" + Format.segment(id) + "/revoke"), "requestId": .string(id),
                "comment": .string(comment),
            ],
            readOnly: false
        )
        do {
            let revoked = try await audit.performing(call, caller: signedIn.caller, response: Self.summary) {
                try await platform.access.revoke(id, comment: comment, by: signedIn.principal.arn)
            }
            sessions.setNotice(
                .init("Revoked \(revoked.id): \(revoked.requester) may no longer read \(revoked.eventType)."),
                for: signedIn.session.id
            )
        } catch let error as AccessControlError {
            sessions.setNotice(.init(error.message, isError: true), for: signedIn.session.id)
        }
        return ConsoleHTTP.redirect(to: "/console/access")
    }

    /// Who may read each event type now, of the grants `principal` may see: the catalog's column.
    func readers(visibleTo principal: String) async throws -> [String: [AccessGrant]] {
        Dictionary(grouping: try await platform.access.matrix(by: principal), by: \.eventType)
    }

    /// `alice (until 2026-12-06 10:00 UTC (in 1 day)), role/etl`, or `none you may see`.
    static func readerList(_ grants: [AccessGrant]?, at: Date) -> String {
        guard let grants, !grants.isEmpty else { return "none you may see" }
        return grants.map { grant in
            let name = grant.principal.split(separator: ":").last.map(String.init) ?? grant.principal
            return grant.expirationDate.map { "\(name) (until \(Format.date($0, now: at)))" } ?? "\(name) (no end)"
        }.joined(separator: ", ")
    }
}

/// The access matrix page's filters; empty values filter nothing.
struct MatrixFilter: Sendable, Hashable {
    var eventType: String?
    var team: String?
    var principal: String?

    init(eventType: String?, team: String?, principal: String?) {
        func given(_ value: String?) -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        self.eventType = given(eventType)
        self.team = given(team)
        self.principal = given(principal)
    }

    var isActive: Bool { eventType != nil || team != nil || principal != nil }

    /// The filters as the audit record's `requestParameters` name them.
    var parameters: JSONObject {
        var parameters: JSONObject = [:]
        if let eventType { parameters["eventType"] = .string(eventType) }
        if let team { parameters["team"] = .string(team) }
        if let principal { parameters["principal"] = .string(principal) }
        return parameters
    }

    /// Whether `grant` (of a type `owner` owns) passes: the exact event type; a team that owns the type or has the
    /// grantee as a member; a grantee whose ARN, or the name after its last `/`, is the principal given.
    func keeps(_ grant: AccessGrant, owner: String, teamsOf: (String) -> [String]) -> Bool {
        if let eventType, grant.eventType != eventType { return false }
        if let team, owner != team, !teamsOf(grant.principal).contains(team) { return false }
        if let principal {
            let name = grant.principal.split(separator: "/").last.map(String.init) ?? grant.principal
            guard grant.principal == principal || name == principal else { return false }
        }
        return true
    }
}
