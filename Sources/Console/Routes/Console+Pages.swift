import AccessControl
import AuditTrail
import Catalog
import Foundation
import HTTPTypes
import Hummingbird
import Server

/// Home, the catalog, an event type (with its request form) and reviews.
extension Console {
    func registerPages(in router: Router<ServerContext>) {
        router.get("/console") { request, context in
            await page { try await home(request, context: context) }
        }
        router.get("/console/catalog") { request, context in
            await page { try await catalogPage(request, context: context) }
        }
        router.get("/console/catalog/:type") { request, context in
            await page { try await eventTypePage(request, context: context) }
        }
        router.post("/console/catalog/:type/request") { request, context in
            await page { try await requestAccess(request, context: context) }
        }
        router.get("/console/reviews") { request, context in
            await page { try await reviewsPage(request, context: context) }
        }
        router.post("/console/reviews/:id") { request, context in
            await page { try await decide(request, context: context) }
        }
    }

    // MARK: Pages

    func home(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let arn = signedIn.principal.arn
        let me = platform.identities.baseIdentity(of: arn)
        let mine = try await platform.access.list(status: nil, by: arn).filter { $0.requester == me }
        let queue = try await reviewQueue(for: arn)
        try await audit.record(read("ListAccessRequests", .access, path: "/console"), caller: signedIn.caller)
        let at = now()
        let rows: [[String: Any]] = mine.map { request in
            var row: [String: Any] = [
                "id": request.id, "eventType": request.eventType, "eventTypePath": Format.segment(request.eventType),
                "status": request.status.rawValue, "approvals": request.approvals.count,
                "approvalsRequired": request.approvalsRequired, "duration": Format.duration(request.durationSeconds),
                "created": Format.date(request.creationDate, now: at),
                "until": request.status == .approved ? Format.date(request.expirationDate, now: at) : "—",
            ]
            if request.status == .pending {
                row["until"] = "decide by " + Format.date(request.pendingExpirationDate, now: at)
                row["duration"] = Format.duration(request.durationSeconds) + " from the final approval"
            }
            if let denial = request.denial { row["decision"] = "Denied: \(denial.comment)" }
            if let closing = request.closing, !closing.comment.isEmpty { row["decision"] = closing.comment }
            return row
        }
        var values = chrome(signedIn, title: "Home", nav: "navHome", reviewCount: queue.actionable)
        values["requests"] = rows
        values["hasRequests"] = !rows.isEmpty
        return ConsoleHTTP.page(pages.render("home", values))
    }

    func catalogPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let arn = signedIn.principal.arn
        let domains = try await platform.catalog.domainList(by: arn)
        let types = await platform.catalog.eventTypeList()
        let readers = try await readers(visibleTo: arn)
        let queue = try await reviewQueue(for: arn)
        try await audit.record(read("ListEventTypes", .catalog, path: "/console/catalog"), caller: signedIn.caller)
        let at = now()
        var values = chrome(signedIn, title: "Catalog", nav: "navCatalog", reviewCount: queue.actionable)
        values["domains"] = domains.map { ["name": $0.name, "owner": $0.owner, "keyARN": $0.keyARN, "alias": $0.keyAlias] }
        values["hasDomains"] = !domains.isEmpty
        values["types"] = types.map { type -> [String: Any] in
            [
                "name": type.name, "path": Format.segment(type.name), "domain": type.domain,
                "classification": type.classification.rawValue, "regulations": Format.list(type.regulations),
                "sensitiveFields": type.sensitiveFields.isEmpty ? "the whole data" : Format.list(type.sensitiveFields),
                "subjectField": type.subjectField ?? "none", "algorithmSuite": type.algorithmSuite,
                "approvalsRequired": type.approvalsRequired, "readers": Self.readerList(readers[type.name], at: at),
            ]
        }
        values["hasTypes"] = !types.isEmpty
        return ConsoleHTTP.page(pages.render("catalog", values))
    }

    func eventTypePage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let name = context.parameters.get("type") ?? ""
        let path = "/console/catalog/" + Format.segment(name)
        let call = read("GetEventType", .catalog, path: path, ["eventType": .string(name)])
        let type: Catalog.EventType
        do {
            type = try await platform.catalog.eventType(named: name)
        } catch {
            try await audit.record(call, caller: signedIn.caller, error: error)
            throw error
        }
        let domain = await platform.catalog.domain(named: type.domain)
        let readers = try await readers(visibleTo: signedIn.principal.arn)[type.name]
        let queue = try await reviewQueue(for: signedIn.principal.arn)
        try await audit.record(call, caller: signedIn.caller)
        var values = chrome(signedIn, title: type.name, nav: "navCatalog", reviewCount: queue.actionable)
        values["type"] = [
            "name": type.name, "path": Format.segment(type.name), "domain": type.domain, "owner": domain?.owner ?? "—",
            "keyARN": domain?.keyARN ?? "—", "alias": domain?.keyAlias ?? "—",
            "classification": type.classification.rawValue,
            "regulations": Format.list(type.regulations),
            "sensitiveFields": type.sensitiveFields.isEmpty ? "none: the whole data is sealed" : Format.list(type.sensitiveFields),
            "subjectField": type.subjectField ?? "none", "algorithmSuite": type.algorithmSuite,
            "approvalsRequired": type.approvalsRequired, "readerRoleARN": type.readerRoleARN, "csrf": signedIn.session.csrfToken,
            "readers": Self.readerList(readers, at: now()), "matrixPath": "/console/access?eventType=" + Format.segment(type.name),
        ] as [String: Any]
        return ConsoleHTTP.page(pages.render("event-type", values))
    }

    func reviewsPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        let arn = signedIn.principal.arn
        let queue = try await reviewQueue(for: arn)
        try await audit.record(
            read("ListAccessRequests", .access, path: "/console/reviews", ["status": .string("pending")]),
            caller: signedIn.caller
        )
        let at = now()
        var values = chrome(signedIn, title: "Reviews", nav: "navReviews", reviewCount: queue.actionable)
        values["teams"] = Format.list(platform.identities.teams(of: arn).sorted())
        values["requests"] = queue.requests.map { item -> [String: Any] in
            var card: [String: Any] = [
                "id": item.request.id, "eventType": item.request.eventType, "requester": item.request.requester,
                "justification": item.request.justification, "duration": Format.duration(item.request.durationSeconds),
                "classification": item.classification, "approvals": item.request.approvals.count,
                "approvalsRequired": item.request.approvalsRequired,
                "created": Format.date(item.request.creationDate, now: at), "csrf": signedIn.session.csrfToken,
                "decideBy": Format.date(item.request.pendingExpirationDate, now: at),
            ]
            if !item.request.approvals.isEmpty {
                card["approvedBy"] = item.request.approvals.map(\.reviewer).joined(separator: ", ")
            }
            return card
        }
        values["hasRequests"] = !queue.requests.isEmpty
        return ConsoleHTTP.page(pages.render("reviews", values))
    }

    // MARK: Forms

    /// `POST /console/catalog/:type/request`: a new access request, as `CreateAccessRequest`.
    func requestAccess(_ request: Request, context: ServerContext) async throws -> Response {
        let (signedIn, form) = try await signedInForm(request, context: context)
        let name = context.parameters.get("type") ?? ""
        let back = "/console/catalog/" + Format.segment(name)
        let justification = form["justification"] ?? ""
        guard let duration = Int(form["duration"] ?? "") else {
            throw ConsoleRefusal(code: "ValidationException", message: "Choose a duration.")
        }
        let call = ConsoleAudit.Call(
            source: .access,
            name: "CreateAccessRequest",
            parameters: .object([
                "path": .string(back + "/request"), "eventType": .string(name),
                "justification": .string(justification), "durationSeconds": .number(JSONNumber(Int64(duration))),
            ]),
            readOnly: false
        )
        do {
            let created = try await audit.performing(call, caller: signedIn.caller, response: Self.summary) {
                try await platform.access.request(
                    name,
                    justification: justification,
                    durationSeconds: duration,
                    by: signedIn.principal.arn
                )
            }
            let reviewers = await platform.catalog.accessTarget(for: name)?.owningTeam ?? "the owning team"
            sessions.setNotice(
                .init("Request \(created.id) for \(name) created: it waits for \(created.approvalsRequired) approval(s) from \(reviewers)."),
                for: signedIn.session.id
            )
            return ConsoleHTTP.redirect(to: "/console")
        } catch let error as AccessControlError {
            sessions.setNotice(.init(error.message, isError: true), for: signedIn.session.id)
            return ConsoleHTTP.redirect(to: back)
        }
    }

    /// `POST /console/reviews/:id` with `decision` `approve` or `deny`: as `ApproveAccessRequest` or
    /// `DenyAccessRequest`. A refusal (self-approval, a second approval by the same reviewer, a denial without a
    /// comment) comes back on the reviews page with the service's message.
    func decide(_ request: Request, context: ServerContext) async throws -> Response {
        let (signedIn, form) = try await signedInForm(request, context: context)
        let id = context.parameters.get("id") ?? ""
        let comment = form["comment"] ?? ""
        let approve: Bool
        switch form["decision"] {
        case "approve": approve = true
        case "deny": approve = false
        default: throw ConsoleRefusal(code: "ValidationException", message: "Choose approve or deny.")
        }
        let call = ConsoleAudit.Call(
            source: .access,
            name: approve ? "ApproveAccessRequest" : "DenyAccessRequest",
            parameters: .object([
                "path": .string("/console/reviews/" + Format.segment(id)), "requestId": .string(id),
                "comment": .string(comment),
            ]),
            readOnly: false
        )
        let arn = signedIn.principal.arn
        do {
            let decided = try await audit.performing(call, caller: signedIn.caller, response: Self.summary) {
                if approve { return try await platform.access.approve(id, comment: comment, by: arn) }
                return try await platform.access.deny(id, comment: comment, by: arn)
            }
            let text: String
            switch decided.status {
            case .approved: text = "Approved \(decided.id): \(decided.requester) may read \(decided.eventType)."
            case .denied: text = "Denied \(decided.id)."
            default:
                text = "Approved \(decided.id): \(decided.approvals.count) of \(decided.approvalsRequired) approvals; it stays pending."
            }
            sessions.setNotice(.init(text), for: signedIn.session.id)
        } catch let error as AccessControlError {
            sessions.setNotice(.init(error.message, isError: true), for: signedIn.session.id)
        }
        return ConsoleHTTP.redirect(to: "/console/reviews")
    }

    // MARK: Helpers

    /// The pending requests to types `principal`'s teams own, and how many of them `principal` may still decide
    /// (not their own, not approved by them already).
    func reviewQueue(for principal: String) async throws -> (requests: [(request: AccessRequest, classification: String)], actionable: Int) {
        let teams = Set(platform.identities.teams(of: principal))
        guard !teams.isEmpty else { return ([], 0) }
        let me = platform.identities.baseIdentity(of: principal)
        var queue: [(request: AccessRequest, classification: String)] = []
        var actionable = 0
        for request in try await platform.access.list(status: .pending, by: principal) {
            guard let target = await platform.catalog.accessTarget(for: request.eventType),
                teams.contains(target.owningTeam)
            else { continue }
            let classification = (try? await platform.catalog.eventType(named: request.eventType))?.classification.rawValue ?? "—"
            queue.append((request, classification))
            if request.requester != me, !request.approvals.contains(where: { $0.reviewer == me }) { actionable += 1 }
        }
        return (queue, actionable)
    }

    /// The values every signed-in page has: who, the CSRF token of the sign-out form, the review count, the notice.
    func chrome(_ signedIn: SignedIn, title: String, nav: String, reviewCount: Int) -> [String: Any] {
        let arn = signedIn.principal.arn
        var values: [String: Any] = [
            "title": title, "principal": arn, "principalName": arn.split(separator: ":").last.map(String.init) ?? arn,
            "csrf": signedIn.session.csrfToken, "reviewCount": reviewCount, "hasReviews": reviewCount > 0, nav: true,
            "hasBus": bus != nil,
            "mayAudit": trail?.mayRead(arn) == true,
        ]
        if let notice = sessions.takeNotice(signedIn.session.id) {
            values["notice"] = ["text": notice.text, "isError": notice.isError]
        }
        return values
    }

    func read(_ name: String, _ source: EventSource, path: String, _ more: JSONObject = [:]) -> ConsoleAudit.Call {
        var parameters = more
        parameters["path"] = .string(path)
        return ConsoleAudit.Call(source: source, name: name, parameters: .object(parameters), readOnly: true)
    }

    /// The `responseElements` of a decision, as the API's.
    static func summary(_ request: AccessRequest) -> JSONValue? {
        .object([
            "requestId": .string(request.id), "status": .string(request.status.rawValue),
            "eventType": .string(request.eventType),
        ])
    }
}
