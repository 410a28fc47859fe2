public import AccessControl
public import AuditTrail
import Foundation
import WireShapes

/// Access-request transitions the platform makes by itself (expiry) as audit records.
public struct AuditedAccessEvents: AccessEventSink {
    let sink: any AuditSink
    let region: String
    let account: String

    public init(sink: any AuditSink, region: String, account: String) {
        self.sink = sink
        self.region = region
        self.account = account
    }

    public func record(_ event: AccessEvent) async throws {
        try await sink.record(
            Record(
                eventTime: Date(),
                eventSource: .access,
                eventName: event.name,
                awsRegion: region,
                userIdentity: .unknown(accountId: account),
                requestParameters: .object([
                    "requestId": .string(event.request.id), "eventType": .string(event.request.eventType),
                    "requester": .string(event.request.requester),
                ]),
                responseElements: .object(["status": .string(event.request.status.rawValue)]),
                requestID: UUID.random().lowercasedString,
                readOnly: false,
                eventType: .awsServiceEvent,
                recipientAccountId: account
            )
        )
    }
}
