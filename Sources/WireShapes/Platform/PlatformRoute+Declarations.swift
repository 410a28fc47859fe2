extension PlatformRoute {
    // MARK: Identities (`iam:*` permissions)
    public static let listTeams = PlatformRoute("GET", "iam/teams", "ListTeams")
    public static let createTeam = PlatformRoute("POST", "iam/teams", "CreateTeam")
    public static let addUserToTeam = PlatformRoute("POST", "iam/teams/:team/members", "AddUserToTeam")
    public static let putTeamPolicy = PlatformRoute("PUT", "iam/teams/:team/policies/:name", "PutTeamPolicy")
    public static let putTeamWebhook = PlatformRoute("PUT", "iam/teams/:team/webhook", "PutTeamWebhook")
    public static let getTeamWebhook = PlatformRoute("GET", "iam/teams/:team/webhook", "GetTeamWebhook")
    public static let deleteTeamWebhook = PlatformRoute("DELETE", "iam/teams/:team/webhook", "DeleteTeamWebhook")
    public static let rotateTeamWebhookSecret = PlatformRoute(
        "POST",
        "iam/teams/:team/webhook/rotate-secret",
        "RotateTeamWebhookSecret"
    )
    public static let listTeamWebhookDeliveries = PlatformRoute(
        "GET",
        "iam/teams/:team/webhook/deliveries",
        "ListTeamWebhookDeliveries"
    )
    public static let listUsers = PlatformRoute("GET", "iam/users", "ListUsers")
    public static let createUser = PlatformRoute("POST", "iam/users", "CreateUser")
    public static let putUserPolicy = PlatformRoute("PUT", "iam/users/:user/policies/:name", "PutUserPolicy")
    public static let listAccessKeys = PlatformRoute("GET", "iam/users/:user/access-keys", "ListAccessKeys")
    public static let createAccessKey = PlatformRoute("POST", "iam/users/:user/access-keys", "CreateAccessKey")
    public static let deactivateAccessKey = PlatformRoute(
        "POST",
        "iam/access-keys/:id/deactivate",
        "DeactivateAccessKey"
    )
    public static let deleteAccessKey = PlatformRoute("DELETE", "iam/access-keys/:id", "DeleteAccessKey")
    public static let listRoles = PlatformRoute("GET", "iam/roles", "ListRoles")
    public static let getRole = PlatformRoute("GET", "iam/roles/:role", "GetRole")
    public static let createRole = PlatformRoute("POST", "iam/roles", "CreateRole")
    public static let putRolePolicy = PlatformRoute("PUT", "iam/roles/:role/policies/:name", "PutRolePolicy")
    public static let updateAssumeRolePolicy = PlatformRoute("PUT", "iam/roles/:role/trust", "UpdateAssumeRolePolicy")

    // MARK: Catalog
    public static let listDomains = PlatformRoute("GET", "catalog/domains", "ListDomains")
    public static let createDomain = PlatformRoute("POST", "catalog/domains", "CreateDomain")
    public static let listEventTypes = PlatformRoute("GET", "catalog/event-types", "ListEventTypes")
    public static let getEventType = PlatformRoute("GET", "catalog/event-types/:type", "GetEventType")
    public static let createEventType = PlatformRoute("POST", "catalog/event-types", "CreateEventType")

    // MARK: Data subjects (the subject id only ever in the body)
    public static let resolveSubject = PlatformRoute("POST", "subjects:resolve", "ResolveSubject")
    public static let eraseSubject = PlatformRoute("POST", "subjects:erase", "EraseSubject")
    public static let describeSubject = PlatformRoute("POST", "subjects:show", "DescribeSubject")
    public static let liftSubjectFence = PlatformRoute("POST", "subjects:lift-fence", "LiftSubjectFence")

    // MARK: Access requests
    public static let createAccessRequest = PlatformRoute("POST", "access/requests", "CreateAccessRequest")
    public static let listAccessRequests = PlatformRoute("GET", "access/requests", "ListAccessRequests")
    public static let getAccessRequest = PlatformRoute("GET", "access/requests/:id", "GetAccessRequest")
    public static let approveAccessRequest = PlatformRoute(
        "POST",
        "access/requests/:id/approve",
        "ApproveAccessRequest"
    )
    public static let denyAccessRequest = PlatformRoute("POST", "access/requests/:id/deny", "DenyAccessRequest")
    public static let cancelAccessRequest = PlatformRoute("POST", "access/requests/:id/cancel", "CancelAccessRequest")
    public static let revokeAccessRequest = PlatformRoute("POST", "access/requests/:id/revoke", "RevokeAccessRequest")
    public static let getAccessMatrix = PlatformRoute("GET", "access/matrix", "GetAccessMatrix")
    public static let getUsageReport = PlatformRoute("GET", "access/usage", "GetUsageReport")

    // MARK: Audit trail
    public static let lookupEvents = PlatformRoute("GET", "audit", "LookupEvents")
    public static let exportEvents = PlatformRoute("GET", "audit/export", "ExportEvents")
    public static let getPublicKey = PlatformRoute("GET", "audit/public-key", "GetPublicKey")

    // MARK: Event bus
    public static let createTopic = PlatformRoute("POST", "topics", "CreateTopic")
    public static let listTopics = PlatformRoute("GET", "topics", "ListTopics")
    public static let describeTopic = PlatformRoute("GET", "topics/:topic", "DescribeTopic")
    public static let publishEvents = PlatformRoute("POST", "topics/:topic/events", "PublishEvents")
    /// Newline-delimited envelopes in, one acknowledgement line per event out, on one long-lived request.
    public static let publishEventStream = PlatformRoute("POST", "topics/:topic/events:stream", "PublishEventStream")
    public static let readEvents = PlatformRoute("GET", "topics/:topic/events", "ReadEvents")
    public static let streamEvents = PlatformRoute("GET", "topics/:topic/stream", "StreamEvents")
    public static let fetchEvents = PlatformRoute("POST", "topics/:topic/groups/:group/fetch", "FetchEvents")
    public static let commitOffset = PlatformRoute("POST", "topics/:topic/groups/:group/commit", "CommitOffset")
    public static let describeGroup = PlatformRoute("GET", "topics/:topic/groups/:group", "DescribeGroup")

    // MARK: Web console
    /// A one-time sign-in link to the web console for the caller's own identity (`sealed console login`).
    public static let createConsoleLink = PlatformRoute("POST", "console/links", "CreateConsoleLink")

    // MARK: AWS mode (`aws:*` permissions: administrators)
    public static let checkAWSAccount = PlatformRoute("GET", "aws/drift", "CheckAWSAccount")
    public static let fixAWSAccount = PlatformRoute("POST", "aws/drift/fix", "FixAWSAccount")

    // MARK: The contract
    /// The OpenAPI 3.1 document of every route of ``all``, served unsigned (it holds no secret), like `GET /health`;
    /// not one of ``all``, which are the signed operations.
    public static let getOpenAPIDocument = PlatformRoute("GET", "openapi.json", "GetOpenAPIDocument")

    /// Every signed `/v1` route, in the README's order.
    public static let all: [PlatformRoute] = [
        listTeams, createTeam, addUserToTeam, putTeamPolicy, putTeamWebhook, getTeamWebhook, deleteTeamWebhook,
        rotateTeamWebhookSecret, listTeamWebhookDeliveries, listUsers, createUser, putUserPolicy, listAccessKeys,
        createAccessKey, deactivateAccessKey, deleteAccessKey, listRoles, getRole, createRole, putRolePolicy,
        updateAssumeRolePolicy, listDomains, createDomain, listEventTypes, getEventType, createEventType,
        resolveSubject, eraseSubject, describeSubject, liftSubjectFence, createAccessRequest, listAccessRequests,
        getAccessRequest, approveAccessRequest, denyAccessRequest, cancelAccessRequest, revokeAccessRequest,
        getAccessMatrix, getUsageReport, lookupEvents, exportEvents, getPublicKey, createTopic, listTopics,
        describeTopic, publishEvents, publishEventStream, readEvents, streamEvents, fetchEvents, commitOffset,
        describeGroup, createConsoleLink, checkAWSAccount, fixAWSAccount,
    ]

    /// The route a request's method and path segments under `/v1` match, if any.
    public static func matching(method: String, segments: some Collection<String>) -> PlatformRoute? {
        all.first { $0.matches(method: method, segments: segments) }
    }
}
