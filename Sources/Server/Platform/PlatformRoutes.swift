public import AccessControl
import AuditTrail
public import Catalog
import Foundation
public import Hummingbird
public import Subjects
import WireShapes

/// The platform's services behind the `/v1` API and STS.
public struct Platform: Sendable {
    public let identities: IdentityService
    public let catalog: EventCatalog
    public let access: AccessRequests
    /// Data subjects: pseudonyms, their branch keys, erasure.
    public let subjects: SubjectService
    /// Teams' outgoing webhooks (`/v1/iam/teams/{team}/webhook…`); without it those routes are not served.
    public let webhooks: TeamWebhooks?

    public init(
        identities: IdentityService,
        catalog: EventCatalog,
        access: AccessRequests,
        subjects: SubjectService,
        webhooks: TeamWebhooks? = nil
    ) {
        self.identities = identities
        self.catalog = catalog
        self.access = access
        self.subjects = subjects
        self.webhooks = webhooks
    }
}

/// The REST API under `/v1` (JSON, SigV4-signed for the service `sealed`): identities, the catalog and access
/// requests. Members are PascalCase as in AWS APIs; dates are ISO 8601; errors are `{"__type", "message"}`.
///
/// Each route is declared once, in ``WireShapes/PlatformRoute`` (method, path, operation name), and registered here
/// with its handler; the README's route table lists the declarations.
public struct PlatformRoutes: Sendable {
    public let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    public func register(in group: RouterGroup<AuthenticatedContext>) {
        let iam = platform.identities
        let catalog = platform.catalog
        let access = platform.access
        let v1 = group

        // MARK: IAM
        v1.on(.listTeams) { _, context in
            try PlatformJSON.response(TeamList(teams: try await iam.teams(by: context.requester).map(TeamOutput.init)))
        }
        v1.on(.createTeam, input: TeamInput.self) { input, _, context in
            let team = try await iam.createTeam(input.teamName, by: context.requester)
            return try PlatformJSON.response(TeamAnswer(team: TeamOutput(team)))
        }
        v1.on(.addUserToTeam, input: MemberInput.self) { input, _, context in
            let team = try context.parameter("team")
            switch (input.userName, input.principalArn) {
            case (let user?, nil): try await iam.addUser(user, toTeam: team, by: context.requester)
            case (nil, let arn?):
                try await iam.addMember(principal: arn, toTeam: team, by: context.requester)
                // The team's producer policies in AWS are attached to the new member too.
                try await catalog.grantProducers(ofTeam: team)
            default: throw AccessControlError(.validationError, "Give exactly one of UserName and PrincipalArn.")
            }
            return try PlatformJSON.response(EmptyResponse())
        }
        v1.on(.putTeamPolicy, input: PolicyInput.self) { input, _, context in
            try await iam.putTeamPolicy(
                try context.parameter("team"),
                name: try context.parameter("name"),
                document: input.policyDocument,
                by: context.requester
            )
            return try PlatformJSON.response(EmptyResponse())
        }
        if let webhooks = platform.webhooks { registerWebhooks(webhooks, in: v1) }
        v1.on(.listUsers) { _, context in
            try PlatformJSON.response(UserList(users: try await iam.users(by: context.requester).map(UserOutput.init)))
        }
        v1.on(.createUser, input: CreateUserInput.self) { input, _, context in
            let (user, key) = try await iam.createUser(input.userName, team: input.team, by: context.requester)
            return try PlatformJSON.response(CreatedUserOutput(user: user, key: key))
        }
        v1.on(.putUserPolicy, input: PolicyInput.self) { input, _, context in
            try await iam.putUserPolicy(
                try context.parameter("user"),
                name: try context.parameter("name"),
                document: input.policyDocument,
                by: context.requester
            )
            return try PlatformJSON.response(EmptyResponse())
        }
        v1.on(.listAccessKeys) { _, context in
            let keys = try await iam.accessKeys(of: try context.parameter("user"), by: context.requester)
            return try PlatformJSON.response(AccessKeyList(accessKeys: keys.map(AccessKeyOutput.init)))
        }
        v1.on(.createAccessKey) { _, context in
            let key = try await iam.createAccessKey(for: try context.parameter("user"), by: context.requester)
            return try PlatformJSON.response(NewAccessKeyAnswer(accessKey: NewAccessKeyOutput(key)))
        }
        v1.on(.deactivateAccessKey) { _, context in
            try await iam.deactivateAccessKey(try context.parameter("id"), by: context.requester)
            return try PlatformJSON.response(EmptyResponse())
        }
        v1.on(.deleteAccessKey) { _, context in
            try await iam.deleteAccessKey(try context.parameter("id"), by: context.requester)
            return try PlatformJSON.response(EmptyResponse())
        }
        v1.on(.listRoles) { _, context in
            try PlatformJSON.response(RoleList(roles: try await iam.roles(by: context.requester).map(RoleOutput.init)))
        }
        v1.on(.getRole) { _, context in
            let role = try await iam.role(named: try context.parameter("role"), by: context.requester)
            return try PlatformJSON.response(RoleAnswer(role: RoleOutput(role)))
        }
        v1.on(.createRole, input: CreateRoleInput.self) { input, _, context in
            let role = try await iam.createRole(
                input.roleName,
                trustPolicy: input.assumeRolePolicyDocument,
                policies: input.policies ?? [:],
                description: input.description ?? "",
                maxSessionDuration: input.maxSessionDuration ?? 3600,
                by: context.requester
            )
            return try PlatformJSON.response(RoleAnswer(role: RoleOutput(role)))
        }
        v1.on(.putRolePolicy, input: PolicyInput.self) { input, _, context in
            try await iam.putRolePolicy(
                try context.parameter("role"),
                name: try context.parameter("name"),
                document: input.policyDocument,
                by: context.requester
            )
            return try PlatformJSON.response(EmptyResponse())
        }
        v1.on(.updateAssumeRolePolicy, input: PolicyInput.self) { input, _, context in
            try await iam.updateTrustPolicy(
                try context.parameter("role"),
                document: input.policyDocument,
                by: context.requester
            )
            return try PlatformJSON.response(EmptyResponse())
        }

        // MARK: Catalog
        v1.on(.listDomains) { _, context in
            let domains = try await catalog.domainList(by: context.principal.arn).map(DomainOutput.init)
            return try PlatformJSON.response(DomainList(domains: domains))
        }
        v1.on(.createDomain, input: CreateDomainInput.self) { input, _, context in
            let domain = try await catalog.createDomain(
                input.domain,
                owner: input.owner,
                keyARN: input.keyArn,
                by: context.principal.arn
            )
            return try PlatformJSON.response(DomainOutput(domain))
        }
        v1.on(.listEventTypes) { request, _ in
            let domain = request.uri.queryParameters.get("domain")
            let types = await catalog.eventTypeList(domain: domain)
            var outputs: [EventTypeOutput] = []
            for type in types {
                outputs.append(EventTypeOutput(type, keyARN: await catalog.domain(named: type.domain)?.keyARN))
            }
            return try PlatformJSON.response(EventTypeList(eventTypes: outputs))
        }
        v1.on(.getEventType) { _, context in
            let type = try await catalog.eventType(named: try context.parameter("type"))
            return try PlatformJSON.response(
                EventTypeOutput(type, keyARN: await catalog.domain(named: type.domain)?.keyARN)
            )
        }
        v1.on(.createEventType, input: EventTypeInput.self) { input, _, context in
            guard let classification = Classification(rawValue: input.classification ?? "confidential") else {
                throw AccessControlError(
                    .validationError,
                    "Classification must be one of public, internal, confidential, restricted."
                )
            }
            let type = try await catalog.createEventType(
                .init(
                    name: input.eventType,
                    domain: input.domain,
                    classification: classification,
                    regulations: input.regulations ?? [],
                    sensitiveFields: input.sensitiveFields ?? [],
                    subjectField: input.subjectField,
                    algorithmSuite: input.algorithmSuite ?? "0x0578",
                    approvalsRequired: input.approvalsRequired ?? 1
                ),
                by: context.principal.arn
            )
            return try PlatformJSON.response(
                EventTypeOutput(type, keyARN: await catalog.domain(named: type.domain)?.keyARN)
            )
        }

        registerSubjects(in: v1)

        // MARK: Access requests
        v1.on(.createAccessRequest, input: AccessRequestInput.self) { input, _, context in
            let created = try await access.request(
                input.eventType,
                justification: input.justification,
                durationSeconds: input.durationSeconds,
                by: context.principal.arn
            )
            context.auditNote?.setResponseElements(
                .object([
                    "requestId": .string(created.id), "status": .string(created.status.rawValue),
                    "eventType": .string(created.eventType),
                ])
            )
            return try PlatformJSON.response(AccessRequestOutput(created))
        }
        v1.on(.listAccessRequests) { request, context in
            var status: AccessRequest.Status?
            if let text = request.uri.queryParameters.get("status") {
                guard let value = AccessRequest.Status(rawValue: text) else {
                    throw AccessControlError(
                        .validationError,
                        "status must be one of \(AccessRequest.Status.allCases.map(\.rawValue).joined(separator: ", "))."
                    )
                }
                status = value
            }
            let requests = try await access.list(status: status, by: context.principal.arn)
            return try PlatformJSON.response(AccessRequestList(accessRequests: requests.map(AccessRequestOutput.init)))
        }
        v1.on(.getAccessRequest) { _, context in
            try PlatformJSON.response(
                AccessRequestOutput(try await access.show(try context.parameter("id"), by: context.principal.arn))
            )
        }
        for route in [
            PlatformRoute.approveAccessRequest, .denyAccessRequest, .cancelAccessRequest, .revokeAccessRequest,
        ] {
            v1.on(route, input: CommentInput.self) { input, _, context in
                try await decide(route, input: input, context: context)
            }
        }
        // Any other action on a request: not an operation (the declared ones match first).
        v1.on("access/requests/:id/:verb", method: .post) { _, context, body -> Response in
            _ = try body.decode(CommentInput.self)
            let verb = try context.parameter("verb")
            throw PlatformRequestError(code: "UnknownOperationException", message: "Unknown action \(verb).")
        }
        v1.on(.getAccessMatrix) { _, context in
            let grants = try await access.matrix(by: context.principal.arn)
            return try PlatformJSON.response(GrantList(grants: grants.map(GrantOutput.init)))
        }
    }
}

extension PlatformRoutes {
    /// Approves, denies, cancels or revokes an access request, as `route` says.
    func decide(_ route: PlatformRoute, input: CommentInput, context: AuthenticatedContext) async throws -> Response {
        let id = try context.parameter("id")
        let principal = context.principal.arn
        let comment = input.comment ?? ""
        let access = platform.access
        let result: AccessRequest
        switch route {
        case .approveAccessRequest: result = try await access.approve(id, comment: comment, by: principal)
        case .denyAccessRequest: result = try await access.deny(id, comment: comment, by: principal)
        case .cancelAccessRequest: result = try await access.cancel(id, by: principal)
        case .revokeAccessRequest: result = try await access.revoke(id, comment: comment, by: principal)
        default: preconditionFailure("\(route) does not decide an access request")
        }
        context.auditNote?.setResponseElements(
            .object([
                "requestId": .string(result.id), "status": .string(result.status.rawValue),
                "eventType": .string(result.eventType),
            ])
        )
        return try PlatformJSON.response(AccessRequestOutput(result))
    }
}

extension AuthenticatedContext {
    var requester: Requester { .principal(principal.arn) }

    package func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else {
            throw PlatformRequestError(code: "ValidationException", message: "\(name) is required.")
        }
        return value
    }
}
