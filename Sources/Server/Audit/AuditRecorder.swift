import AccessControl
public import AuditTrail
import Composition
import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import SealedSupport
import Subjects
import Synchronization
import Tables
import WireShapes

/// What the middleware and the handlers of one request learn for its audit record: the authenticated principal,
/// the body that was authenticated, the parameters a `/v1` route noted, the key the operation used, and safe response
/// elements.
public final class AuditNote: Sendable {
    /// Writes a request's intent record (see ``AuditRecorder``); set by the recorder.
    typealias IntentWriter = @Sendable (_ request: Request, _ body: ByteBuffer, _ note: AuditNote) async throws -> Void
    /// Writes a further record of the request, for what `note` says, failed with `error` when one is given; set by the
    /// recorder.
    typealias PartWriter = @Sendable (_ note: AuditNote, _ error: (any Error)?) async throws -> Void

    private struct State {
        var principal: String?
        var accessKeyId: String?
        var keyARN: String?
        /// Resources other than a KMS key the request named (DynamoDB tables).
        var resources: [Resource] = []
        var responseElements: JSONValue?
        var body: ByteBuffer?
        var requestParameters: JSONValue?
        var intentWriter: IntentWriter?
        var partWriter: PartWriter?
        /// A `/v1` change whose intent record waits for its route to note the parameters.
        var intentPending = false
    }

    private let state = Mutex(State())

    /// The `eventID` of the request's outcome record, chosen up front so a route can name the record in its answer
    /// (an erasure's receipt does); the record is durable before the answer leaves.
    public let eventID = UUID.random().lowercasedString

    public init() {}

    public func setPrincipal(_ arn: String, accessKeyId: String) {
        state.withLock {
            $0.principal = arn
            $0.accessKeyId = accessKeyId
        }
    }
    public func setKeyARN(_ arn: String?) { state.withLock { $0.keyARN = arn } }
    func addResources(_ resources: [Resource]) { state.withLock { $0.resources += resources } }
    public func setResponseElements(_ value: JSONValue?) { state.withLock { $0.responseElements = value } }
    func setIntentWriter(_ writer: @escaping IntentWriter) { state.withLock { $0.intentWriter = writer } }
    func setPartWriter(_ writer: @escaping PartWriter) { state.withLock { $0.partWriter = writer } }

    var principal: String? { state.withLock { $0.principal } }
    var accessKeyId: String? { state.withLock { $0.accessKeyId } }
    var keyARN: String? { state.withLock { $0.keyARN } }
    var resources: [Resource] { state.withLock { $0.resources } }
    var responseElements: JSONValue? { state.withLock { $0.responseElements } }
    /// The body as the signature verified it; `nil` for a request that was not authenticated.
    var body: ByteBuffer? { state.withLock { $0.body } }
    /// The `requestParameters` a route (KMS or `/v1`) noted from the body it parsed; `nil` before (or without) one.
    var requestParameters: JSONValue? { state.withLock { $0.requestParameters } }

    /// Keeps the authenticated body for the record and, for a request that changes something, writes its intent
    /// record; returns once it is durable. A `/v1` request's intent waits for its route (``described(_:parameters:)``),
    /// which parses the body.
    func authenticated(_ request: Request, body: ByteBuffer, mutating: Bool) async throws {
        let deferred = AuditRecorder.isPlatform(request) || DynamoDBRoutes.isDynamoDB(request)
        let writer = state.withLock { state -> IntentWriter? in
            state.body = body
            state.intentPending = mutating && deferred
            return state.intentWriter
        }
        if mutating, !deferred, let writer { try await writer(request, body, self) }
    }

    /// Notes the parameters of a KMS request, made from the body its route parsed (changes have written their intent
    /// record before the route ran, from the body: see ``authenticated(_:body:mutating:)``).
    func noteParameters(_ parameters: JSONValue?) { state.withLock { $0.requestParameters = parameters } }

    /// Notes the parameters of a `/v1` request, made from the body its route parsed, and, for a change, writes the
    /// intent record that waited for them; returns once it is durable, before the route decodes anything.
    func described(_ request: Request, parameters: JSONValue) async throws {
        let (writer, body) = state.withLock { state -> (IntentWriter?, ByteBuffer?) in
            state.requestParameters = parameters
            defer { state.intentPending = false }
            return state.intentPending ? (state.intentWriter, state.body) : (nil, nil)
        }
        if let writer, let body { try await writer(request, body, self) }
    }

    /// Writes one more record of this request, through the same recorder and trail as its own records, and returns
    /// once it is durable: a publish stream writes one per acknowledged group of events and one per refused event.
    /// The record is the request's (principal, source, request id, operation) with these `parameters` (bounded as
    /// every record's are) and, when `error` is `nil`, these `responseElements`; otherwise it carries `error`'s code
    /// and message, as a request that failed with it would.
    ///
    /// - Throws: When the record could not be written (the recorder's internal error).
    public func recordPart(parameters: JSONValue, responseElements: JSONValue?, error: (any Error)?) async throws {
        let (writer, principal, accessKeyId) = state.withLock { ($0.partWriter, $0.principal, $0.accessKeyId) }
        guard let writer else { return }
        let part = AuditNote()
        part.state.withLock { state in
            state.principal = principal
            state.accessKeyId = accessKeyId
            state.requestParameters = AuditRecorder.bounded(parameters)
            state.responseElements = responseElements
        }
        try await writer(part, error)
    }
}

/// Records every signed request — KMS, STS and `/v1` alike, allowed, denied or refused at the signature — and makes
/// writing its records part of the request.
///
/// - **Changes are recorded before they are made.** A request that changes state (every KMS operation but key use
///   and reads, STS `AssumeRole`, every `/v1` route but `GET`) first gets an *intent* record (``AuditTrail/Record/intent``),
///   written once its signature verified and durable before the handler runs; when it cannot be written the request
///   fails and nothing changes. The outcome record (same `requestID`) follows the handler.
/// - **Nothing is released before its record.** Every request's outcome record is durable before the response
///   leaves; when it cannot be written the caller gets an internal error instead of the result (a Decrypt's
///   plaintext never leaves without its record). Key use and reads have this one record only: they change nothing.
/// - **A publish stream records what it stores.** Its opening request has its intent and outcome records like any
///   `/v1` change; then, while it runs, its route writes one record per acknowledged group of events and one per
///   refused event through the request's note (``AuditNote/recordPart(parameters:responseElements:error:)``), built
///   here like the request's own and durable before the acknowledgements leave.
/// - **Records are bounded.** A request without any signature is refused before its body is read
///   (`MissingAuthenticationTokenException`). A request refused before its signature verified gets a summary only: the path, the
///   operation, the access key id it claimed and the error, never its body (each string cut to a few hundred
///   bytes). An authenticated request's `requestParameters` are kept up to ``maximumParametersSize`` bytes of
///   canonical JSON; larger ones are replaced by ``truncatedParameters(_:size:)`` (a marker, the original size and
///   a prefix).
///
/// It sits inside the ``RequestObserver`` (which names the request id) and outside the SigV4 middleware, so
/// signature failures are recorded too; ``AuditIntentRecorder`` runs behind the SigV4 middleware. Request parameters
/// never carry plaintext, ciphertext blobs or secrets: KMS bodies pass through `Record.kmsRequestParameters`, STS
/// keeps the role and session names, and `/v1` bodies (which hold no secrets) are kept as sent.
public struct AuditRecorder: RouterMiddleware {
    public typealias Context = ServerContext

    let sink: any AuditSink
    let region: String
    let account: String
    let maximumBodySize: Int
    /// `userIdentity` values by principal and access key, so a request does not parse its principal's ARN again.
    let identities = IdentityCache()

    public init(sink: any AuditSink, region: String, account: String, maximumBodySize: Int) {
        self.sink = sink
        self.region = region
        self.account = account
        self.maximumBodySize = maximumBodySize
    }

    /// The most bytes of canonical JSON a record's `requestParameters` keep (16 KiB).
    public static let maximumParametersSize = 16 * 1024
    /// The most bytes of a string an unauthenticated caller chose (path, operation, key id, user agent) kept in a
    /// record, and of an error message.
    package static let maximumFieldSize = 256
    static let maximumMessageSize = 1024

    public func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let isQuery = STSRoutes.isQuery(request)
        let note = context.auditNote ?? AuditNote()
        var context = context
        context.auditNote = note
        let requestID = context.requestID
        let sourceIP = context.sourceIP
        let logger = context.logger
        note.setPartWriter { part, error in
            let record = makeRecord(
                request,
                body: ByteBuffer(),
                note: part,
                outcome: error.map { .failure($0) } ?? .success(Response(status: .ok)),
                requestID: requestID,
                sourceIP: sourceIP
            )
            try await write(record, isQuery: false, logger: logger)
        }
        note.setIntentWriter { request, body, note in
            let intent = makeRecord(
                request,
                body: body,
                note: note,
                outcome: nil,
                requestID: requestID,
                sourceIP: sourceIP
            )
            try await write(intent.intent, isQuery: isQuery, logger: logger)
        }
        let outcome: Result<Response, any Error>
        do {
            // A request that claims no credential cannot authenticate: refused before anything reads its body.
            guard Self.claimsCredential(request) else { throw KMSError.missingAuthenticationToken }
            outcome = .success(try await next(request, context))
        } catch let error as KMSError where isQuery {
            outcome = .failure(STSErrorResponse(error))
        } catch let error as any DependencyUnavailable where isQuery && error.isUnavailability {
            outcome = .failure(STSErrorResponse.unavailable)
        } catch {
            outcome = .failure(error)
        }
        let record = makeRecord(
            request,
            body: note.body,
            note: note,
            outcome: outcome,
            requestID: requestID,
            sourceIP: sourceIP
        )
        try await write(record, isQuery: isQuery, logger: context.logger)
        return try outcome.get()
    }

    /// Writes a record; when it cannot be written, the request fails with the protocol's internal error, or with 503
    /// when the database holding the trail could not be reached.
    func write(_ record: Record, isQuery: Bool, logger: Logger) async throws {
        do {
            try await sink.record(record)
        } catch let error as any DependencyUnavailable where error.isUnavailability {
            logger.warning(
                "audit record could not be written, the database is unavailable; the request fails",
                metadata: ["error": "\(error)"]
            )
            if isQuery { throw STSErrorResponse.unavailable }
            throw error
        } catch {
            logger.error(
                "audit record could not be written; the request fails",
                metadata: ["error": "\(error)"]
            )
            if isQuery {
                throw STSErrorResponse(
                    code: "InternalFailure",
                    message: "The audit trail is unavailable.",
                    status: .internalServerError
                )
            }
            throw KMSError(
                code: .kmsInternalException,
                message: "The audit trail is unavailable; the request was not completed."
            )
        }
    }

    // MARK: - Building the record

    /// The record of a request: its outcome, or (`outcome` `nil`) what it is about to do.
    ///
    /// - Parameter body: the authenticated body; `nil` when the signature did not verify, and then the record is a
    ///   bounded summary that holds nothing of the body.
    func makeRecord(
        _ request: Request,
        body: ByteBuffer?,
        note: AuditNote,
        outcome: Result<Response, any Error>?,
        requestID: String,
        sourceIP: String?
    ) -> Record {
        let authenticated = note.principal != nil && body != nil
        let (source, name, described) =
            authenticated
            ? Self.describe(request, body: body!, noted: note.requestParameters) : Self.summarize(request)
        var parameters = described
        if authenticated, let size = Self.oversize(parameters, bodySize: body!.readableBytes) {
            parameters = Self.truncatedParameters(parameters!, size: size)
        }
        let (errorCode, errorMessage) = outcome.map(Self.error(of:)) ?? (nil, nil)
        let accessKeyId = note.accessKeyId ?? Self.claimedAccessKeyID(request).map { Self.bounded($0) }
        let identity = identities.identity(principal: note.principal, accessKeyId: accessKeyId, account: account)
        var resources: [Resource] = []
        var keyARN = note.keyARN
        if keyARN == nil, authenticated, source == .kms, let keyId = parameters?["keyId"]?.stringValue,
            keyId.hasPrefix("arn:")
        {
            keyARN = keyId
        }
        if let keyARN { resources.append(.kmsKey(arn: keyARN)) }
        resources += note.resources
        return Record(
            eventTime: Date(),
            eventSource: source,
            eventName: name,
            awsRegion: region,
            userIdentity: identity,
            sourceIPAddress: sourceIP,
            userAgent: request.headers.value(of: .userAgent).map { Self.bounded($0) },
            requestParameters: parameters,
            responseElements: errorCode == nil ? note.responseElements : nil,
            errorCode: errorCode.map { Self.bounded($0) },
            errorMessage: errorMessage.map { Self.bounded($0, to: Self.maximumMessageSize) },
            requestID: requestID,
            eventID: note.eventID,
            readOnly: Self.isReadOnly(source: source, name: name, method: request.method),
            resources: resources,
            recipientAccountId: account
        )
    }

    /// Whether an authenticated request changes state, and so gets an intent record before its handler runs.
    static func isMutating(_ request: Request, body: ByteBuffer) -> Bool {
        if DynamoDBRoutes.isDynamoDB(request) {
            guard let operation = request.headers.value(of: .amzTarget).flatMap(DynamoDBOperation.init(target:)) else {
                return false
            }
            return !DynamoDBAuditParameters.readOnlyOperations.contains(operation)
        }
        if let target = request.headers.value(of: .amzTarget) {
            guard let operation = KMSOperation(target: target) else { return false }  // refused as unknown
            return !Record.readOnlyKMSOperations.contains(operation.rawValue)
        }
        if STSRoutes.isQuery(request) {
            return STSForm.decode(body.readableBytesView)["Action"] != "GetCallerIdentity"
        }
        return request.method != .get && request.method != .head
    }

    /// The record of a request whose signature did not verify: the service, the operation and the path as the caller
    /// named them (each cut to ``maximumFieldSize`` bytes), never anything from the body.
    static func summarize(_ request: Request) -> (EventSource, String, JSONValue?) {
        let path = bounded(request.uri.path)
        if DynamoDBRoutes.isDynamoDB(request), let target = request.headers.value(of: .amzTarget) {
            return (.dynamoDB, bounded(String(target.dropFirst("DynamoDB_20120810.".count))), nil)
        }
        if let target = request.headers.value(of: .amzTarget) {
            let operation =
                KMSOperation(target: target)?.rawValue ?? target.split(separator: ".").last.map(String.init) ?? target
            return (.kms, bounded(operation), nil)
        }
        if STSRoutes.isQuery(request) { return (.sts, "Unknown", nil) }
        let segments = path.split(separator: "/").map(String.init)
        return (
            platformSource(segments),
            bounded(operationName(method: request.method, segments: segments)),
            .object(["path": .string(path)])
        )
    }

    /// `text` cut to at most `limit` bytes of UTF-8 (at a character boundary), with `…` when it was cut.
    package static func bounded(_ text: String, to limit: Int = maximumFieldSize) -> String {
        guard text.utf8.count > limit else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: limit - 3)
        while end > text.utf8.startIndex, UTF8.isContinuation(text.utf8[end]) { end = text.utf8.index(before: end) }
        return (String(text.utf8[..<end]) ?? "") + "…"
    }

    /// `parameters`, or ``truncatedParameters(_:size:)`` when they are over ``maximumParametersSize``.
    static func bounded(_ parameters: JSONValue) -> JSONValue {
        guard let size = oversize(parameters, bodySize: maximumParametersSize) else { return parameters }
        return truncatedParameters(parameters, size: size)
    }

    /// The canonical size of `parameters` when it is over ``maximumParametersSize``; `nil` otherwise.
    ///
    /// Canonical JSON writes a body byte as at most six (`\u0001`), so a small body cannot give large parameters and
    /// is not encoded again: key use stays as cheap as it was.
    static func oversize(_ parameters: JSONValue?, bodySize: Int) -> Int? {
        guard let parameters, bodySize * 6 + 1024 > maximumParametersSize else { return nil }
        let size = CanonicalJSON.encode(parameters).count
        return size > maximumParametersSize ? size : nil
    }

    /// What replaces parameters over ``maximumParametersSize``: `{"truncated": true, "originalSize": N,
    /// "prefix": "…"}` (the prefix is the start of their canonical JSON, as a string), plus the `path` of a `/v1` call.
    static func truncatedParameters(_ parameters: JSONValue, size: Int) -> JSONValue {
        let text = String(decoding: CanonicalJSON.encode(parameters), as: UTF8.self)
        var members: JSONObject = [
            "truncated": .bool(true), "originalSize": .number(JSONNumber(size)),
            "prefix": .string(bounded(text, to: maximumParametersSize / 2)),
        ]
        if let path = parameters["path"] { members["path"] = path }
        return .object(members)
    }

    /// The service, the operation and the request parameters of a request; those its route `noted` from the body it
    /// parsed when there are some (KMS and `/v1`), so the body is not parsed again here.
    static func describe(
        _ request: Request,
        body: ByteBuffer,
        noted: JSONValue? = nil
    ) -> (EventSource, String, JSONValue?) {
        if DynamoDBRoutes.isDynamoDB(request) {
            // Without the route's parameters (a body it refused), the table name alone: never an item.
            let (_, name, _) = summarize(request)
            let table = (try? CanonicalJSON.parse(Array(body.readableBytesView)))?["TableName"]?.stringValue
            return (.dynamoDB, name, noted ?? table.map { .object(["tableName": .string(bounded($0))]) })
        }
        if let target = request.headers.value(of: .amzTarget) {
            let operation =
                KMSOperation(target: target)?.rawValue ?? target.split(separator: ".").last.map(String.init) ?? target
            // A request refused before its route parsed the body (and an intent record) reads it here.
            let parameters =
                noted ?? body.readableBytesView.withUnsafeBytes { Record.kmsRequestParameters(body: $0) }
            return (.kms, operation, parameters)
        }
        if STSRoutes.isQuery(request) {
            let form = STSForm.decode(body.readableBytesView)
            var parameters = JSONObject()
            if let role = form["RoleArn"] { parameters["roleArn"] = .string(role) }
            if let session = form["RoleSessionName"] { parameters["roleSessionName"] = .string(session) }
            if let duration = form["DurationSeconds"].flatMap(Int64.init) {
                parameters["durationSeconds"] = .number(JSONNumber(duration))
            }
            return (.sts, form["Action"] ?? "Unknown", parameters.isEmpty ? nil : .object(parameters))
        }
        let path = request.uri.path
        let segments = path.split(separator: "/").map(String.init)
        // A body no route parsed (a `POST /` without a target): read here, once.
        let parameters =
            noted
            ?? platformParameters(
                path: path,
                body: body.readableBytes > 0 ? try? CanonicalJSON.parse(Array(body.readableBytesView)) : nil
            )
        return (platformSource(segments), operationName(method: request.method, segments: segments), parameters)
    }

    /// The `requestParameters` of a `/v1` call: its `path` and the body's members (names in camelCase), or, under
    /// `/v1/topics`, the events' summaries (``eventSummaries(_:)``), or, under `/v1/subjects`, only the members of
    /// ``subjectParameterNames`` (never the subject id); the path alone for an empty or malformed body.
    static func platformParameters(path: String, body: JSONValue?) -> JSONValue {
        var parameters: JSONObject = ["path": .string(path)]
        let area = path.split(separator: "/").dropFirst().first
        if area == "topics" {
            // Events may carry plaintext (a refused unsealed event does): only their identifying metaData.
            if let body { parameters["events"] = .array(eventSummaries(body)) }
        } else if area?.hasPrefix("subjects") == true {
            // The subject id is personal data: it is in the body to be pseudonymized, and never recorded.
            if case .object(let members)? = body {
                for name in subjectParameterNames {
                    if let value = members[name] { parameters[name.prefix(1).lowercased() + name.dropFirst()] = value }
                }
            }
        } else if case .object(let members)? = body {
            for member in members {
                parameters[member.key.prefix(1).lowercased() + member.key.dropFirst()] = member.value
            }
            // A team webhook's URL may be a credential (a Slack incoming webhook's is): scheme, host and port only.
            if area == "iam", path.hasSuffix("/webhook"), case .string(let url)? = members["Url"] {
                parameters["url"] = .string(TeamWebhook.redacted(url))
            }
        }
        return .object(parameters)
    }

    /// The members of a `/v1/subjects:…` body an audit record keeps: not `SubjectId`, nor any member the shapes do not
    /// name.
    static let subjectParameterNames = ["Domain", "EventType", "Reason"]

    /// What identifies the events of a publish body (one envelope or `{"Events": [...]}`): `eventId`, `eventType`,
    /// `domain`, `source` and the key ARN of their `metaData` — never `data`, which may be plaintext.
    static func eventSummaries(_ body: JSONValue) -> [JSONValue] {
        let envelopes: [JSONValue]
        if case .array(let items)? = body["Events"] {
            envelopes = items
        } else {
            envelopes = [body]
        }
        return envelopes.prefix(1000).map { envelope in
            var summary = JSONObject()
            if case .object(let metaData)? = envelope["metaData"] {
                for key in ["eventId", "eventType", "domain", "source"] {
                    if case .string(let value)? = metaData[key] { summary[key] = .string(value) }
                }
                if case .string(let keyArn)? = metaData["encryption"]?["keyArn"] { summary["keyArn"] = .string(keyArn) }
            }
            return .object(summary)
        }
    }

    /// The event source of a `/v1` path's segments (`v1`, then the API's area).
    static func platformSource(_ segments: [String]) -> EventSource {
        switch segments.dropFirst().first {
        case "iam": .iam
        case "catalog": .catalog
        case "access": .access
        case "topics": .bus
        case let area? where area.hasPrefix("subjects"): .catalog
        default: EventSource(rawValue: "sealed.local")
        }
    }

    /// The operation name of a `/v1` request as its route declares it (``WireShapes/PlatformRoute``), or
    /// `METHOD /path` for a path that is no route.
    static func operationName(method: HTTPRequest.Method, segments: [String]) -> String {
        let route = PlatformRoute.matching(method: method.rawValue, segments: segments.dropFirst())  // drop "v1"
        return route?.operation ?? "\(method.rawValue) /\(segments.joined(separator: "/"))"
    }

    static func isReadOnly(source: EventSource, name: String, method: HTTPRequest.Method) -> Bool {
        switch source {
        case .kms: Record.readOnlyKMSOperations.contains(name)
        case .sts: name == "GetCallerIdentity"
        case .dynamoDB: DynamoDBAuditParameters.readOnlyOperations.contains(DynamoDBOperation(rawValue: name))
        default: method == .get
        }
    }

    /// The error code and message of a failed request, as its response names them.
    package static func error(of outcome: Result<Response, any Error>) -> (String?, String?) {
        switch outcome {
        case .success(let response):
            return response.status.code < 400 ? (nil, nil) : ("HTTP\(response.status.code)", nil)
        case .failure(let error as KMSError): return (error.code.rawValue, error.message)
        case .failure(let error as TableError): return (error.code.rawValue, error.message)
        case .failure(let error as STSErrorResponse): return (error.code, error.message)
        case .failure(let error as AccessControlError): return (error.code.rawValue, error.message)
        case .failure(let error as SubjectError): return (error.code.rawValue, error.message)
        case .failure(let error as PlatformRequestError): return (error.code, error.message)
        case .failure(let error as GovernanceRefusal): return (error.rule.rawValue, error.message)
        case .failure(let error as any HTTPResponseError): return ("HTTP\(error.status.code)", nil)
        case .failure(let error as any DependencyUnavailable) where error.isUnavailability:
            return (RequestObserver.unavailableCode, nil)
        case .failure: return ("InternalFailure", nil)
        }
    }

    /// Whether a request carries a SigV4 signature at all (an `Authorization` header or a presigned query).
    static func claimsCredential(_ request: Request) -> Bool {
        request.headers[.authorization] != nil || request.uri.queryParameters.get("X-Amz-Credential") != nil
            || request.headers[callerIdentityHeader] != nil
    }

    /// AWS mode's credential: a signed `GetCallerIdentity` (``CallerIdentityMiddleware``).
    static let callerIdentityHeader = HTTPField.Name(SignedCallerIdentity.header)!

    /// The access key id in the `Authorization` header or `X-Amz-Credential` query, for a request whose signature
    /// did not verify (a verified one names its key in the note).
    static func claimedAccessKeyID(_ request: Request) -> String? {
        let credential: Substring
        if let header = request.headers.value(of: .authorization) {
            let utf8 = header.utf8
            guard let range = utf8.firstRange(of: "Credential=".utf8) else { return nil }
            credential = Substring(header.utf8[range.upperBound...])
        } else if let query = request.uri.queryParameters.get("X-Amz-Credential") {
            credential = Substring(query)
        } else {
            return nil
        }
        let id = credential.prefix { $0 != "/" && $0 != "," && $0 != " " }
        return id.isEmpty ? nil : String(id)
    }

    /// A CloudTrail `userIdentity` for a principal ARN (a user or a role session), or an unknown caller.
    package static func identity(principal: String?, accessKeyId: String?, account: String) -> UserIdentity {
        guard let principal else { return .unknown(accessKeyId: accessKeyId, accountId: nil) }
        let fields = principal.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6 else { return .unknown(accessKeyId: accessKeyId, accountId: nil) }
        let principalAccount = String(fields[4])
        let resource = fields[5]
        if resource.hasPrefix("user/") {
            let name = String(resource.dropFirst("user/".count))
            return .iamUser(name: name, accountId: principalAccount, accessKeyId: accessKeyId)
        }
        if resource.hasPrefix("assumed-role/") {
            let parts = resource.split(separator: "/")
            if parts.count >= 3 {
                return .assumedRole(
                    roleName: String(parts[1]),
                    sessionName: String(parts[2]),
                    accountId: principalAccount,
                    accessKeyId: accessKeyId
                )
            }
        }
        return .unknown(accessKeyId: accessKeyId, accountId: principalAccount)
    }
}

/// A bounded cache of CloudTrail `userIdentity` values by principal ARN and access key id.
final class IdentityCache: Sendable {
    private let entries = Mutex<[String: UserIdentity]>([:])
    private let capacity = 10_000

    func identity(principal: String?, accessKeyId: String?, account: String) -> UserIdentity {
        guard let principal else {
            return AuditRecorder.identity(principal: nil, accessKeyId: accessKeyId, account: account)
        }
        let key = principal + "\u{0}" + (accessKeyId ?? "")
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let identity = AuditRecorder.identity(principal: principal, accessKeyId: accessKeyId, account: account)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = identity
        }
        return identity
    }
}
