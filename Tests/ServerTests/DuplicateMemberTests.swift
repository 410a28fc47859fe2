import AccessControl
import AuditTrail
import Catalog
import Composition
import Crypto
import EventBus
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMS
import KeyService
import NIOCore
import SealedServerTesting
import Server
import Testing

/// A JSON body that names a member twice, at any depth, is refused with a 400 before its handler runs, on every
/// kind of route: the handler and the audit record can never read two different values.
struct DuplicateMemberTests {
    typealias Keys = AuditedServerTests.Keys

    /// The platform in memory with the bus (taking events of any type) and an audit sink.
    struct World {
        let fixture: PlatformFixture
        var admin: Keys { fixture.admin }
        var identities: IdentityService { fixture.identities }

        init() async throws {
            fixture = try await PlatformFixture(
                configuration: PlatformConfiguration(unknownEventTypes: .allow),
                logger: Fixture.logger
            )
        }

        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            try await fixture.test(body)
        }

        /// The newest audit record.
        func lastRecord() async throws -> Record {
            try #require(try await fixture.lastRecord())
        }
    }

    static func kms(_ client: some TestClientProtocol, _ keys: Keys, _ operation: String, _ body: String) async throws
        -> TestResponse
    {
        try await AuditedServerTests.send(
            client,
            keys,
            target: "TrentService.\(operation)",
            contentType: AWSJSON.contentType,
            body: Array(body.utf8),
            service: "kms"
        )
    }

    static func v1(_ client: some TestClientProtocol, _ keys: Keys, _ path: String, _ body: String) async throws
        -> TestResponse
    {
        try await AuditedServerTests.send(
            client,
            keys,
            path: path,
            contentType: "application/json",
            body: Array(body.utf8),
            service: "sealed"
        )
    }

    static func errorType(_ response: TestResponse) -> String? {
        let body = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return body?["__type"] as? String
    }

    @Test func aKMSRequestNamingAMemberTwiceIsRefused() async throws {
        let world = try await World()
        try await world.test { client in
            let created = try await Self.kms(client, world.admin, "CreateKey", "{}")
            let metadata = try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as? [String: Any]
            let key = try #require((metadata?["KeyMetadata"] as? [String: Any])?["Arn"] as? String)
            #expect(try await Self.kms(client, world.admin, "CreateAlias", #"{"AliasName":"alias/other","TargetKeyId":"\#(key)"}"#).status == .ok)
            let plaintext = Data("secret".utf8).base64EncodedString()
            // At the top level (two keys: which one would the handler use?), and nested in the encryption context.
            let bodies = [
                #"{"KeyId":"\#(key)","KeyId":"alias/other","Plaintext":"\#(plaintext)"}"#,
                #"{"KeyId":"\#(key)","Plaintext":"\#(plaintext)","EncryptionContext":{"eventType":"a","eventType":"b"}}"#,
            ]
            for body in bodies {
                let response = try await Self.kms(client, world.admin, "Encrypt", body)
                #expect(response.status == .badRequest)
                #expect(Self.errorType(response) == "SerializationException")
                #expect(String(buffer: response.body).contains("duplicate object key"))
                // The refusal is audited as such, and nothing was encrypted.
                let record = try await world.lastRecord()
                #expect(record.eventName == "Encrypt")
                #expect(record.errorCode == "SerializationException")
                #expect(record.responseElements == nil)
            }
            // The same request without the duplicate is answered.
            let valid = try await Self.kms(
                client,
                world.admin,
                "Encrypt",
                #"{"KeyId":"\#(key)","Plaintext":"\#(plaintext)"}"#
            )
            #expect(valid.status == .ok)
        }
    }

    @Test func aV1RequestNamingAMemberTwiceIsRefused() async throws {
        let world = try await World()
        try await world.test { client in
            for body in [
                #"{"TeamName":"payments","TeamName":"admins"}"#,
                #"{"TeamName":"payments","Extra":{"a":1,"a":2}}"#,
            ] {
                let response = try await Self.v1(client, world.admin, "/v1/iam/teams", body)
                #expect(response.status == .badRequest)
                #expect(Self.errorType(response) == "ValidationException")
                #expect(String(buffer: response.body).contains("duplicate object key"))
                let record = try await world.lastRecord()
                #expect(record.errorCode == "ValidationException")
            }
            #expect(try await world.identities.teams(by: .platform).isEmpty)
            // Malformed JSON stays a SerializationException.
            let malformed = try await Self.v1(client, world.admin, "/v1/iam/teams", #"{"TeamName":"#)
            #expect(Self.errorType(malformed) == "SerializationException")
            let created = try await Self.v1(client, world.admin, "/v1/iam/teams", #"{"TeamName":"payments"}"#)
            #expect(created.status == .ok)
        }
    }

    @Test func aPublishNamingAMemberTwiceIsRefused() async throws {
        let world = try await World()
        try await world.test { client in
            let topic = try await Self.v1(client, world.admin, "/v1/topics", #"{"Name":"orders"}"#)
            #expect(topic.status == .ok)
            let topicTwice = try await Self.v1(client, world.admin, "/v1/topics", #"{"Name":"a","Name":"b"}"#)
            #expect(topicTwice.status == .badRequest)
            #expect(Self.errorType(topicTwice) == "ValidationException")

            let envelope = #"""
                {"metaData":{"eventId":"e1","eventType":"orders.created","eventType":"payments.card.captured",
                "domain":"orders","source":"test","time":"2026-01-01T00:00:00Z"},"data":{}}
                """#
            for body in [envelope, #"{"Events":[\#(envelope)]}"#] {
                let response = try await Self.v1(client, world.admin, "/v1/topics/orders/events", body)
                #expect(response.status == .badRequest)
                #expect(Self.errorType(response) == "MalformedEnvelope")
                #expect(String(buffer: response.body).contains("duplicate object key"))
            }
            let read = try await AuditedServerTests.send(
                client,
                world.admin,
                method: .get,
                path: "/v1/topics/orders/events",
                contentType: "application/json",
                body: [],
                service: "sealed"
            )
            let events = try JSONSerialization.jsonObject(with: Data(read.body.readableBytesView)) as? [String: Any]
            #expect((events?["Events"] as? [Any])?.isEmpty == true)
        }
    }
}
