import AccessControl
import AuditTrail
import Composition
import Foundation
import KMS
import KeyService
import SealedEvents
import SealedSupport
import Server
import Synchronization
import Tables
import WireShapes

/// Opens sealed events for the console's signed-in principal, in process, the way `sealed consume --open` does over
/// the wire:
///
/// 1. it assumes the event type's reader role as the principal (STS `AssumeRole`: the trust policy the access
///    workflow maintains decides, with the browser's address as `aws:SourceIp`), for 15 minutes;
/// 2. it decrypts the event's data key with the platform's key service as that role session (the role's policy
///    decides, on the event type's encryption context), through the SDK's own ``SealedEvents/Opener`` and
///    ``KMS/KMSKeyring``, so the envelope is checked exactly as a consumer checks it. A subject-keyed event is opened
///    with the hierarchical keyring over the platform's branch keystore, read as the same session: an erased
///    subject's event shows `{"erased": true}` in its sealed places.
///
/// Every call is audited as the API's are: `AssumeRole` by the console's records, each `Decrypt` and keystore read as
/// the KMS and DynamoDB edges record them, under the role session's identity, **before** its answer is used: when the
/// trail cannot take a record, nothing is opened. Each open is a fresh opener, so no data key outlives the page: a
/// revoked grant stops opening at once.
struct ConsoleOpener: Sendable {
    let identities: IdentityService
    let keyService: KeyService
    /// The platform's tables, where subject-keyed events' branch keys live; `nil` opens no subject-keyed event.
    let tables: TableService?
    let audit: ConsoleAudit

    /// The role session name of console opens (`sealed-console`).
    static let sessionName = Opener.sessionName(for: "console")
    /// How long the reader-role session of one open lasts: STS's minimum.
    static let sessionSeconds = 900

    /// The event opened, or its redacted view with the reason (``SealedEvents/OpenedEvent/denial``) when the principal
    /// may not open it.
    ///
    /// - Throws: ``AuditUnavailable`` when a record could not be written (nothing was opened), the opener's
    ///   ``SealedEvents/SealedEventsError`` for an event that does not match its type or was tampered with.
    func open(_ envelope: Envelope, as descriptor: EventTypeDescriptor, caller: ConsoleAudit.Caller) async throws
        -> OpenedEvent
    {
        guard let principal = caller.principal, let role = descriptor.readerRoleArn else {
            return try Self.refused(envelope, descriptor, "the event type has no reader role")
        }
        let call = ConsoleAudit.Call(
            source: .sts,
            name: "AssumeRole",
            parameters: [
                "roleArn": .string(role), "roleSessionName": .string(Self.sessionName),
                "durationSeconds": .number(JSONNumber(Int64(Self.sessionSeconds))),
            ],
            readOnly: false
        )
        let session: RoleSession
        do {
            session = try await audit.performing(call, caller: caller, response: Self.assumedRole) {
                try await identities.assumeRole(
                    role,
                    sessionName: Self.sessionName,
                    duration: Self.sessionSeconds,
                    caller: principal.arn,
                    sourceIP: caller.sourceIP
                )
            }
        } catch let error as AccessControlError where error.code == .accessDenied {
            return try Self.refused(envelope, descriptor, "STS AccessDenied: you may not assume \(role)")
        }
        let failures = AuditFailures()
        let kms = SessionKMS(keyService: keyService, session: session, caller: caller, audit: audit, failures: failures)
        let opened: OpenedEvent
        do {
            let keyring = try KMSKeyring(generatorKeyId: nil, keyIds: [descriptor.keyArn], client: kms)
            opened = try await Opener(keyring: keyring, subjects: subjectKeys(session, caller, kms, failures))
                .open(envelope, as: descriptor, redacting: true)
        } catch {
            if failures.happened { throw AuditUnavailable() }
            throw error
        }
        if failures.happened { throw AuditUnavailable() }
        return opened
    }

    /// The branch keystore of subject-keyed events, read as the role session.
    private func subjectKeys(_ session: RoleSession, _ caller: ConsoleAudit.Caller, _ kms: SessionKMS, _ failures: AuditFailures)
        -> SubjectKeys?
    {
        guard let tables else { return nil }
        let dynamoDB = SessionDynamoDB(tables: tables, session: session, caller: caller, audit: audit, failures: failures)
        return SubjectKeys { table, kmsKeyARN in
            try BranchKeyStore(tableName: table, logicalKeyStoreName: table, kmsKeyARN: kmsKeyARN, dynamoDB: dynamoDB, kms: kms)
        }
    }

    /// The redacted view of an event the principal may not open, with the request to make.
    static func refused(_ envelope: Envelope, _ descriptor: EventTypeDescriptor, _ refusal: String) throws -> OpenedEvent {
        let view = try Opener.redactedView(of: envelope)
        let denial = SealedEventsError(
            .accessDenied,
            "access denied",
            accessDenied: .init(keyArn: descriptor.keyArn, eventType: descriptor.name, refusal: refusal)
        )
        return OpenedEvent(metaData: view.metaData, data: view.data, sealedFields: view.sealedFields, denial: denial)
    }

    /// The `responseElements` of an `AssumeRole`, as CloudTrail's: the session and its access key id (never the secret
    /// or the token).
    static func assumedRole(_ session: RoleSession) -> JSONValue? {
        [
            "assumedRoleUser": ["arn": .string(session.arn), "assumedRoleId": .string(session.assumedRoleID)],
            "credentials": [
                "accessKeyId": .string(session.accessKey.id),
                "expiration": session.accessKey.expiration.map { .string(ISO8601.format($0)) } ?? .null,
            ],
        ]
    }
}

/// Whether a record of one open could not be written (the call's answer was then withheld): the keyrings turn a
/// failed call into "no key decrypts", and this tells the console it was the trail.
final class AuditFailures: Sendable {
    private let failed = Mutex(false)

    var happened: Bool { failed.withLock { $0 } }

    /// The outcome of `call`, once `record` has recorded it: a success or the call's error. When the record cannot be
    /// written, the failure is noted and its error thrown instead, so nothing of the call is used.
    func recorded<T>(
        _ call: () async throws -> T,
        by record: (Result<T, any Error>) async throws -> Void
    ) async throws -> T {
        let result: Result<T, any Error>
        do {
            result = .success(try await call())
        } catch {
            result = .failure(error)
        }
        do {
            try await record(result)
        } catch {
            failed.withLock { $0 = true }
            throw error
        }
        return try result.get()
    }
}

/// The platform's key service as a ``KMS/KMSAPI`` for one role session, serving `Decrypt` only, each call recorded in
/// the audit trail as the KMS edge records it before its answer is used.
struct SessionKMS: KMSAPI {
    let keyService: KeyService
    let session: RoleSession
    let caller: ConsoleAudit.Caller
    let audit: ConsoleAudit
    let failures: AuditFailures

    func send<Request: KMSRequest>(_ request: Request) async throws -> Request.Response {
        guard let decrypt = request as? DecryptRequest else {
            throw KMSError(code: "UnsupportedOperationException", message: "the console only decrypts")
        }
        let kmsCaller = Caller(principal: session.arn, sourceIP: caller.sourceIP, account: audit.account)
        let response = try await failures.recorded {
            try await keyService.decrypt(decrypt, caller: kmsCaller)
        } by: { result in
            try await audit.recordDecrypt(decrypt, result, session: session, caller: caller)
        }
        guard let typed = response as? Request.Response else {
            throw KMSError(code: "KMSInternalException", message: "Decrypt answered another shape")
        }
        return typed
    }
}

/// The platform's tables as DynamoDB for one role session, serving reads only (a keystore's `GetItem` and `Query`),
/// each recorded as the DynamoDB edge records it before its answer is used.
struct SessionDynamoDB: DynamoDBAPI {
    let tables: TableService
    let session: RoleSession
    let caller: ConsoleAudit.Caller
    let audit: ConsoleAudit
    let failures: AuditFailures

    func send<Request: DynamoDBRequest>(_ request: Request) async throws -> Request.Response {
        let operation = Request.operation
        guard DynamoDBAuditParameters.readOnlyOperations.contains(operation) else {
            throw DynamoDBError(code: "UnsupportedOperationException", message: "the console only reads tables")
        }
        let described = await DynamoDBAuditParameters.describe(request) { await tables.keyNames(of: $0) }
        let call = ConsoleAudit.Call(source: .dynamoDB, name: operation.rawValue, parameters: described.parameters, readOnly: true)
        var asSession = caller
        asSession.principal = ConsolePrincipal(arn: session.arn, accessKeyId: session.accessKey.id)
        return try await failures.recorded {
            try await InProcessDynamoDB(tables: tables, caller: session.arn).send(request)
        } by: { result in
            try await audit.record(call, caller: asSession, error: result.failure)
        }
    }
}

extension Result {
    /// The error of a failure, `nil` for a success.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension ConsoleAudit {
    /// Writes the record of a `Decrypt` the console made as a role session: the KMS edge's record of the same call
    /// (``AuditTrail/Record/kms(operation:request:keyARN:userIdentity:eventTime:awsRegion:recipientAccountId:requestID:sourceIPAddress:userAgent:responseElements:errorCode:errorMessage:)``),
    /// with the console's `userAgent`.
    ///
    /// - Throws: ``AuditUnavailable`` when the trail cannot take it.
    func recordDecrypt(
        _ request: DecryptRequest,
        _ result: Result<DecryptResponse, any Error>,
        session: RoleSession,
        caller: Caller
    ) async throws {
        guard let sink else { return }
        var parameters: JSONObject = [:]
        if let keyId = request.keyId { parameters["KeyId"] = .string(keyId) }
        if let context = request.encryptionContext {
            parameters["EncryptionContext"] = .object(JSONObject(context.sorted { $0.key < $1.key }.map { JSONObject.Member(key: $0.key, value: .string($0.value)) }))
        }
        if let algorithm = request.encryptionAlgorithm { parameters["EncryptionAlgorithm"] = .string(algorithm.rawValue) }
        var code: String?
        var message: String?
        var keyARN = request.keyId.flatMap { $0.hasPrefix("arn:") ? $0 : nil }
        switch result {
        case .success(let response): keyARN = response.keyId ?? keyARN
        case .failure(let error as KMSError):
            code = error.code.rawValue
            message = error.message
        case .failure: code = "KMSInternalException"
        }
        let record = Record.kms(
            operation: "Decrypt",
            request: .object(parameters),
            keyARN: keyARN,
            userIdentity: AuditRecorder.identity(principal: session.arn, accessKeyId: session.accessKey.id, account: account),
            eventTime: Date(),
            awsRegion: region,
            recipientAccountId: account,
            requestID: caller.requestID,
            sourceIPAddress: caller.sourceIP,
            userAgent: userAgent(caller),
            errorCode: code,
            errorMessage: message.map { AuditRecorder.bounded($0, to: 1024) }
        )
        do {
            try await sink.record(record)
        } catch {
            throw AuditUnavailable()
        }
    }
}
