import AuditTrail
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SealedEvents
import Testing
import WireShapes

@testable import Server

/// A `/v1` body is parsed once, by its route's registration (``PlatformBody``): the handler's input shape and the
/// audit records' parameters come from that one parse, and the records keep what the body said.
struct PlatformBodyTests {
    typealias World = AuditedServerTests.World

    /// The members of a record's `requestParameters`.
    static func parameters(_ record: Record) -> [String: JSONValue] {
        guard case .object(let members)? = record.requestParameters else { return [:] }
        return Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) })
    }

    @Test func aChangesBodyIsParsedOnceForItsHandlerItsIntentAndItsOutcome() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        let parses = PlatformBody.Counter()
        try await PlatformBody.$parses.withValue(parses) {
            try await app.test(.router) { client in
                var count = Int(try await world.audit.chainHead().sequence)
                let (created, _) = try await AuditedServerTests.v1(
                    client,
                    world.admin,
                    .post,
                    "/v1/catalog/domains",
                    ["Domain": "payments", "Owner": "payments"]
                )
                #expect(created.status == .ok)
                #expect(parses.total == 1)
                let outcome = try await AuditedServerTests.onlyNewRecord(world.audit, after: &count)
                let intent = try #require(try await world.audit.tail(after: Int64(count - 2), limit: 1).first?.record)
                #expect(intent.isIntent && intent.requestParameters == outcome.requestParameters)
                #expect(
                    outcome.requestParameters
                        == .object(["domain": "payments", "owner": "payments", "path": "/v1/catalog/domains"])
                )

                // A read without a body parses nothing.
                _ = try await AuditedServerTests.v1(client, world.admin, .get, "/v1/catalog/domains", nil)
                #expect(parses.total == 1)
            }
        }
    }

    /// The recorder takes a `/v1` call's parameters from its route's note and does not read the body itself.
    @Test func theRecorderUsesTheNotedParametersNotTheBody() {
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/v1/iam/teams"),
            body: RequestBody(buffer: ByteBuffer())
        )
        let noted: AuditTrail.JSONValue = ["path": "/v1/iam/teams", "teamName": "noted"]
        let (source, name, parameters) = AuditRecorder.describe(
            request,
            body: ByteBuffer(string: #"{"TeamName": "sent"}"#),
            noted: noted
        )
        #expect(source == .iam && name == "CreateTeam" && parameters == noted)
        #expect(AuditRecorder.isPlatform(request))
    }

    @Test func theRecordKeepsMembersTheShapeDoesNotKnowAndNothingOfAMalformedBody() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            var count = Int(try await world.audit.chainHead().sequence)
            func send(_ body: String) async throws -> (TestResponse, Record) {
                let response = try await AuditedServerTests.send(
                    client,
                    world.admin,
                    method: .post,
                    path: "/v1/iam/teams",
                    contentType: "application/json",
                    body: Array(body.utf8),
                    service: "sealed"
                )
                return (response, try await AuditedServerTests.onlyNewRecord(world.audit, after: &count))
            }
            // Unknown members are recorded as sent (names in camelCase), numbers as the audit trail reads them.
            var (response, record) = try await send(#"{"TeamName": "risk", "Extra": {"Deep": [1, 2.5, null]}}"#)
            #expect(response.status == .ok)
            #expect(
                Self.parameters(record)
                    == ["path": "/v1/iam/teams", "teamName": "risk", "extra": ["Deep": [1, 2.5, nil]]]
            )
            // Malformed JSON: refused before the handler, and recorded by its path alone.
            (response, record) = try await send(#"{"TeamName": "fraud",}"#)
            #expect(response.status == .badRequest && record.errorCode == "SerializationException")
            #expect(Self.parameters(record) == ["path": "/v1/iam/teams"])
            // A member named twice: refused, and recorded by its path alone.
            (response, record) = try await send(#"{"TeamName": "a", "TeamName": "b"}"#)
            #expect(response.status == .badRequest && record.errorCode == "ValidationException")
            #expect(Self.parameters(record) == ["path": "/v1/iam/teams"])
            // Nested deeper than the audit trail reads (64) but within the parser's limit: the change is made, the
            // record keeps the path alone, as the audit trail's own reader would.
            let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
            (response, record) = try await send(#"{"TeamName": "ledger", "Extra": \#(deep)}"#)
            #expect(response.status == .ok && record.errorCode == nil)
            #expect(Self.parameters(record) == ["path": "/v1/iam/teams"])
        }
    }

    /// A request to a path or method no `/v1` operation has is answered 404 with the error shape (it was Hummingbird's
    /// bare 404 with no body), whether the path shares no segment with the routes or ends inside them.
    @Test func anUnknownPathIsA404WithTheErrorShape() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            let unknown: [(HTTPRequest.Method, String)] = [(.get, "/v1/nothing/here"), (.post, "/v1/iam"), (.delete, "/v1/topics")]
            for (method, path) in unknown {
                let (response, error) = try await AuditedServerTests.v1(client, world.reviewer, method, path, [:])
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(error["__type"] as? String == "UnknownOperationException", "\(method) \(path) \(error)")
            }
        }
    }

    @Test func anUnknownActionOnAnAccessRequestIsAnUnknownOperation() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            var count = Int(try await world.audit.chainHead().sequence)
            let (response, error) = try await AuditedServerTests.v1(
                client,
                world.reviewer,
                .post,
                "/v1/access/requests/r-1/shred",
                ["Comment": "gone"]
            )
            #expect(response.status == .badRequest)
            #expect(error["__type"] as? String == "UnknownOperationException")
            #expect(error["message"] as? String == "Unknown action shred.")
            let record = try await AuditedServerTests.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventName == "POST /v1/access/requests/r-1/shred")
            #expect(record.errorCode == "UnknownOperationException")
            #expect(Self.parameters(record) == ["path": "/v1/access/requests/r-1/shred", "comment": "gone"])

            // Its body is read as an approval's would be: a malformed one is that, first.
            let (malformed, problem) = try await AuditedServerTests.v1(
                client,
                world.reviewer,
                .post,
                "/v1/access/requests/r-1/shred",
                ["Comment": 7]
            )
            #expect(malformed.status == .badRequest && problem["__type"] as? String == "SerializationException")
        }
    }
}

/// ``JSONValueDecoder`` reads input shapes as Foundation's `JSONDecoder` read them before: the same values, and the
/// same failures (a missing member apart from any other).
struct JSONValueDecoderTests {
    enum Outcome<T: Equatable>: Equatable {
        case value(T)
        case missing(String)
        case invalid
    }

    static func outcome<T: Decodable & Equatable>(_ decode: () throws -> T) -> Outcome<T> {
        do {
            return .value(try decode())
        } catch DecodingError.keyNotFound(let key, _) {
            return .missing(key.stringValue)
        } catch {
            return .invalid
        }
    }

    static func compare<T: Decodable & Equatable>(_ type: T.Type, _ body: String, sourceLocation: SourceLocation) throws {
        let value = try JSONValue(parsing: body)
        let foundation = outcome { try JSONDecoder().decode(T.self, from: Data(body.utf8)) }
        let ours = outcome { try T(from: JSONValueDecoder(value)) }
        #expect(ours == foundation, "\(body)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}"}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 3600.0}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 36e2}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 3600.5}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 99999999999999999999}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": "3600"}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": null, "Description": null}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Policies": {"a": "{}", "b": "{}"}}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Policies": {"a": 1}}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Policies": ["a"]}"#,
        #"{"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Unknown": {"x": [1, {"y": null}]}}"#,
        #"{"RoleName": "r"}"#,
        #"{"RoleName": null, "AssumeRolePolicyDocument": "{}"}"#,
        #"{"RoleName": 1, "AssumeRolePolicyDocument": "{}"}"#,
        #"{"RoleName": true, "AssumeRolePolicyDocument": "{}"}"#,
        #"{}"#, #"[]"#, #""r""#, #"null"#,
    ])
    func aRoleInputReadsAsJSONDecoderReadIt(_ body: String) throws {
        try Self.compare(CreateRoleInput.self, body, sourceLocation: #_sourceLocation)
    }

    @Test(arguments: [
        #"{"EventType": "a.b", "Domain": "a", "Regulations": ["pci", "gdpr"], "ApprovalsRequired": 2}"#,
        #"{"EventType": "a.b", "Domain": "a", "Regulations": ["pci", 1]}"#,
        #"{"EventType": "a.b", "Domain": "a", "Regulations": "pci"}"#,
        #"{"EventType": "a.b", "Domain": "a", "SensitiveFields": [], "ApprovalsRequired": -1}"#,
        #"{"EventType": "a.b", "Domain": "a", "ApprovalsRequired": 1e400}"#,
    ])
    func anEventTypeInputReadsAsJSONDecoderReadIt(_ body: String) throws {
        try Self.compare(EventTypeInput.self, body, sourceLocation: #_sourceLocation)
    }

    @Test(arguments: [
        #"{"Offset": 0}"#, #"{"Offset": 18446744073709551615}"#, #"{"Offset": 18446744073709551616}"#,
        #"{"Offset": -1}"#, #"{"Offset": 1.0}"#, #"{"Offset": -0}"#, #"{"Offset": "1"}"#,
    ])
    func aCommitInputReadsAsJSONDecoderReadIt(_ body: String) throws {
        try Self.compare(CommitInput.self, body, sourceLocation: #_sourceLocation)
    }
}
