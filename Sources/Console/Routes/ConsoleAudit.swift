import AccessControl
import AuditTrail
import Foundation
import Hummingbird
import KMS
import Server
import WireShapes

/// The console's audit records, in the same trail and shape as the API's (``Server/AuditRecorder``): a page that
/// reads gets one record named by the API operation it performs, a change gets an intent record, durable before
/// anything happens, and an outcome record after; sign-ins are `ConsoleLogin` records (`signin.sealed.local`), the
/// failed ones with their error. Every record's `userAgent` starts with ``userAgent``, then the browser's, and its
/// `userIdentity` names the session's access key. Nothing secret is recorded: not the secret, not a link's token,
/// not the session id.
struct ConsoleAudit: Sendable {
    /// What console records say they came from.
    static let userAgent = "sealed-console/1"
    static let signInSource = EventSource(rawValue: "signin.sealed.local")

    let sink: (any AuditSink)?
    let region: String
    let account: String

    /// One operation the console performs for a request.
    struct Call: Sendable {
        var source: EventSource
        var name: String
        var parameters: JSONValue
        var readOnly: Bool
    }

    /// Who, from where, with what browser.
    struct Caller: Sendable {
        var principal: ConsolePrincipal?
        /// The access key id a failed sign-in claimed.
        var claimedAccessKeyId: String?
        var sourceIP: String?
        var browser: String?
        var requestID: String
    }

    /// Writes the record of a read (or a sign-in) that happened with this outcome.
    func record(_ call: Call, caller: Caller, error: (any Error)? = nil, response: JSONValue? = nil) async throws {
        guard let sink else { return }
        try await write(makeRecord(call, caller: caller, error: error, response: response), to: sink)
    }

    /// Runs a change between its intent record (durable first; when it cannot be written `change` never runs) and its
    /// outcome record.
    func performing<T: Sendable>(
        _ call: Call,
        caller: Caller,
        response: (T) -> JSONValue?,
        _ change: () async throws -> T
    ) async throws -> T {
        guard let sink else { return try await change() }
        let eventID = UUID().uuidString.lowercased()
        try await write(makeRecord(call, caller: caller, error: nil, response: nil, eventID: eventID).intent, to: sink)
        do {
            let value = try await change()
            try await write(makeRecord(call, caller: caller, error: nil, response: response(value)), to: sink)
            return value
        } catch let error as AuditUnavailable {
            throw error
        } catch {
            try await write(makeRecord(call, caller: caller, error: error, response: nil), to: sink)
            throw error
        }
    }

    private func write(_ record: Record, to sink: any AuditSink) async throws {
        do {
            try await sink.record(record)
        } catch {
            throw AuditUnavailable()
        }
    }

    func makeRecord(
        _ call: Call,
        caller: Caller,
        error: (any Error)?,
        response: JSONValue?,
        eventID: String = UUID().uuidString.lowercased()
    ) -> Record {
        let (code, message) = error.map { Self.describe($0) } ?? (nil, nil)
        let accessKeyId = caller.principal?.accessKeyId ?? caller.claimedAccessKeyId.map { AuditRecorder.bounded($0) }
        return Record(
            eventTime: Date(),
            eventSource: call.source,
            eventName: call.name,
            awsRegion: region,
            userIdentity: AuditRecorder.identity(principal: caller.principal?.arn, accessKeyId: accessKeyId, account: account),
            sourceIPAddress: caller.sourceIP,
            userAgent: userAgent(caller),
            requestParameters: call.parameters,
            responseElements: error == nil ? response : nil,
            errorCode: code,
            errorMessage: message.map { AuditRecorder.bounded($0, to: 1024) },
            requestID: caller.requestID,
            eventID: eventID,
            readOnly: call.readOnly,
            recipientAccountId: account
        )
    }

    /// `sealed-console/1 (the browser's user agent)`, bounded as the API's records bound it.
    func userAgent(_ caller: Caller) -> String {
        var agent = Self.userAgent
        if let browser = caller.browser { agent += " (\(browser))" }
        return AuditRecorder.bounded(agent)
    }

    /// The error code and message of a refusal, as the API's records name them.
    static func describe(_ error: any Error) -> (String, String?) {
        switch error {
        case let error as AccessControlError: (error.code.rawValue, error.message)
        case let error as ConsoleRefusal: (error.code, error.message)
        case let error as DynamoDBError: (error.code.rawValue, error.message)
        case let error as KMSError: (error.code.rawValue, error.message)
        default: ("InternalFailure", nil)
        }
    }
}

/// The audit trail could not take a record: the console shows an error and nothing was done (or shown).
struct AuditUnavailable: Error {}

/// A refusal of the console's own (sign-in, a bad form), with the code its audit record carries.
struct ConsoleRefusal: Error, Sendable {
    var code: String
    var message: String
}
