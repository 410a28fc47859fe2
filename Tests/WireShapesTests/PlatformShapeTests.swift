import Foundation
import Testing
import WireShapes

/// The `/v1` shapes on the wire: PascalCase members, ISO 8601 dates, absent optionals left out.
@Suite struct PlatformShapeTests {
    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try PlatformJSON.encoder().encode(value), as: UTF8.self)
    }

    private let epoch = Date(timeIntervalSince1970: 0)

    @Test func outputsUseAWSMemberNamesAndISO8601Dates() throws {
        let team = TeamOutput(
            teamName: "payments",
            arn: "arn:aws:iam::1:group/payments",
            createDate: epoch,
            policies: ["p"]
        )
        #expect(
            try json(TeamAnswer(team: team))
                == #"{"Team":{"Arn":"arn:aws:iam::1:group/payments","CreateDate":"1970-01-01T00:00:00Z","Policies":["p"],"TeamName":"payments"}}"#
        )
        let key = NewAccessKeyOutput(accessKeyId: "AKIA", secretAccessKey: "s", status: "Active", userArn: "u")
        #expect(
            try json(NewAccessKeyAnswer(accessKey: key))
                == #"{"AccessKey":{"AccessKeyId":"AKIA","SecretAccessKey":"s","Status":"Active","UserArn":"u"}}"#
        )
    }

    @Test func absentOptionalsAreLeftOutButACommittedOffsetIsNull() throws {
        #expect(
            try json(EventTypeInput(eventType: "payments.card", domain: "payments"))
                == #"{"Domain":"payments","EventType":"payments.card"}"#
        )
        #expect(try json(CommentInput()) == "{}")
        #expect(
            try json(TopicInput(name: "orders", retentionSeconds: 60)) == #"{"Name":"orders","RetentionSeconds":60}"#
        )
        #expect(try json(CommittedOffsetOutput(committedOffset: nil)) == #"{"CommittedOffset":null}"#)
        #expect(try json(CommittedOffsetOutput(committedOffset: 7)) == #"{"CommittedOffset":7}"#)
    }

    @Test func answersDecodeAsTheServerWritesThem() throws {
        let body = #"""
            {"AccessRequests":[{"ApprovalsRequired":2,"Approvals":[{"Comment":"ok","Date":"1970-01-01T00:00:00Z",
            "Reviewer":"arn:r"}],"CreateDate":"1970-01-01T00:00:00Z","EventType":"payments.card","Justification":"j",
            "RequestId":"r-1","Requester":"arn:q","Status":"pending"}]}
            """#
        let list = try PlatformJSON.decoder().decode(AccessRequestList.self, from: Data(body.utf8))
        let request = try #require(list.accessRequests.first)
        #expect(request.requestId == "r-1" && request.approvalsRequired == 2 && request.durationSeconds == nil)
        #expect(request.approvals == [ReviewOutput(reviewer: "arn:r", comment: "ok", date: epoch)])
        #expect(request.denial == nil && request.expirationDate == nil)
        // What the server wrote comes back the same.
        let again = try PlatformJSON.decoder().decode(AccessRequestList.self, from: PlatformJSON.encoder().encode(list))
        #expect(again == list)
    }

    @Test func aMissingRequiredMemberIsNamedByItsWireName() throws {
        let error = #expect(throws: DecodingError.self) {
            try PlatformJSON.decoder().decode(TeamInput.self, from: Data(#"{"teamName":"x"}"#.utf8))
        }
        guard case .keyNotFound(let key, _)? = error else {
            Issue.record("expected keyNotFound, got \(String(describing: error))")
            return
        }
        #expect(key.stringValue == "TeamName")
    }
}
