import AccessControl
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SealedServerTesting
import Server
import Testing

/// Over signed HTTP: a role session asks for access as its role, and a delegated IAM administrator needs the
/// permission of every part of a compound operation.
struct AccessHardeningTests {
    typealias Keys = AuditedServerTests.Keys
    static let account = "000000000000"

    /// STS `AssumeRole` of `role` by `keys`: the session's keys.
    static func assume(
        _ client: some TestClientProtocol,
        _ keys: Keys,
        role: String,
        session: String
    ) async throws -> (HTTPResponse.Status, Keys?) {
        let arn = "arn:aws:iam::\(account):role/\(role)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let response = try await AuditedServerTests.send(
            client,
            keys,
            contentType: "application/x-www-form-urlencoded",
            body: Array("Action=AssumeRole&Version=2011-06-15&RoleArn=\(arn)&RoleSessionName=\(session)".utf8),
            service: "sts"
        )
        let xml = String(buffer: response.body)
        func element(_ name: String) -> String? {
            guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>") else { return nil }
            return String(xml[start.upperBound..<end.lowerBound])
        }
        guard let id = element("AccessKeyId"), let secret = element("SecretAccessKey") else {
            return (response.status, nil)
        }
        return (response.status, Keys(id: id, secret: secret, token: element("SessionToken")))
    }

    @Test func aRoleSessionsRequestIsGrantedToTheRoleAndReviewedAsTheRole() async throws {
        let world = try await AuditedServerTests.World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            _ = try await AuditedServerTests.v1(
                client,
                world.admin,
                .post,
                "/v1/catalog/domains",
                ["Domain": "payments", "Owner": "payments"]
            )
            let (typeCreated, _) = try await AuditedServerTests.v1(
                client,
                world.admin,
                .post,
                "/v1/catalog/event-types",
                ["EventType": "payments.card.captured", "Domain": "payments"]
            )
            #expect(typeCreated.status == .ok)
            // A job role the analyst and the reviewer may assume.
            let trust = #"""
                {"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole",
                "Principal":{"AWS":["arn:aws:iam::000000000000:user/analyst","arn:aws:iam::000000000000:user/reviewer"]}}}
                """#
            let (roleCreated, _) = try await AuditedServerTests.v1(
                client,
                world.admin,
                .post,
                "/v1/iam/roles",
                ["RoleName": "etl", "AssumeRolePolicyDocument": trust]
            )
            #expect(roleCreated.status == .ok)
            let (_, job) = try await Self.assume(client, world.analyst, role: "etl", session: "nightly")
            let session = try #require(job)
            let (created, request) = try await AuditedServerTests.v1(
                client,
                session,
                .post,
                "/v1/access/requests",
                ["EventType": "payments.card.captured", "Justification": "nightly job"]
            )
            #expect(created.status == .ok)
            #expect(request["Requester"] as? String == "arn:aws:iam::000000000000:role/etl")
            let id = try #require(request["RequestId"] as? String)
            // The reviewer could act as the role: deciding its request would be deciding their own.
            let (refused, error) = try await AuditedServerTests.v1(
                client,
                world.reviewer,
                .post,
                "/v1/access/requests/\(id)/approve",
                [:]
            )
            #expect(refused.status == .forbidden)
            #expect(error["__type"] as? String == "AccessDenied")
            let readerRole = try await world.identities.role(named: "reader-payments.card.captured", by: .platform)
            #expect(!readerRole.trustPolicy.contains("etl"))
            // A reviewer who cannot act as the role approves; the trust policy then names the role, so another
            // session of it, under another name, reads.
            let reviewer2 = try await AuditedServerTests.World.user("reviewer2", "payments", in: world.identities)
            let (approved, decided) = try await AuditedServerTests.v1(
                client,
                reviewer2,
                .post,
                "/v1/access/requests/\(id)/approve",
                ["Comment": "ok"]
            )
            #expect(approved.status == .ok && decided["Status"] as? String == "approved")
            let reader = "reader-payments.card.captured"
            let (_, other) = try await Self.assume(client, world.analyst, role: "etl", session: "other-name")
            let (status, readerSession) = try await Self.assume(
                client,
                try #require(other),
                role: reader,
                session: "r1"
            )
            #expect(status == .ok && readerSession != nil)
            // The analyst's own identity was not granted.
            let (denied, _) = try await Self.assume(client, world.analyst, role: reader, session: "nightly")
            #expect(denied == .forbidden)
        }
    }

    @Test func aDelegatedIAMAdministratorNeedsThePermissionOfEveryPart() async throws {
        let world = try await AuditedServerTests.World()
        let delegate = try await AuditedServerTests.World.user("delegate", "analytics", in: world.identities)
        let only = #"{"Statement":{"Effect":"Allow","Action":["iam:CreateRole","iam:CreateUser"],"Resource":"*"}}"#
        try await world.identities.putUserPolicy("delegate", name: "iam", document: only, by: .platform)
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            let trust =
                #"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/delegate"},"Action":"sts:AssumeRole"}}"#
            let everything = #"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#
            // iam:CreateRole alone does not store an inline policy (it would be an administrator's role) ...
            var (response, body) = try await AuditedServerTests.v1(
                client,
                delegate,
                .post,
                "/v1/iam/roles",
                ["RoleName": "escalate", "AssumeRolePolicyDocument": trust, "Policies": ["all": everything]]
            )
            #expect(response.status == .forbidden && body["__type"] as? String == "AccessDenied")
            #expect((body["message"] as? String)?.contains("iam:PutRolePolicy") == true)
            await #expect(throws: AccessControlError.self) {
                _ = try await world.identities.role(named: "escalate", by: .platform)
            }
            // ... and iam:CreateUser alone does not join a team.
            (response, body) = try await AuditedServerTests.v1(
                client,
                delegate,
                .post,
                "/v1/iam/users",
                ["UserName": "mole", "Team": "payments"]
            )
            #expect(response.status == .forbidden && body["__type"] as? String == "AccessDenied")
            #expect((body["message"] as? String)?.contains("iam:AddUserToGroup") == true)
            #expect(world.identities.user(named: "mole") == nil)
            // A role without inline policies is iam:CreateRole alone.
            (response, _) = try await AuditedServerTests.v1(
                client,
                delegate,
                .post,
                "/v1/iam/roles",
                ["RoleName": "plain", "AssumeRolePolicyDocument": trust]
            )
            #expect(response.status == .ok)
            // A new user comes with an access key: that part needs iam:CreateAccessKey.
            (response, body) = try await AuditedServerTests.v1(
                client,
                delegate,
                .post,
                "/v1/iam/users",
                ["UserName": "plain"]
            )
            #expect(response.status == .forbidden)
            #expect((body["message"] as? String)?.contains("iam:CreateAccessKey") == true)
            // With each part's own permission, the compound operations are allowed.
            let more = #"""
                {"Statement":{"Effect":"Allow","Resource":"*",
                "Action":["iam:PutRolePolicy","iam:AddUserToGroup","iam:CreateAccessKey"]}}
                """#
            try await world.identities.putUserPolicy("delegate", name: "more", document: more, by: .platform)
            (response, _) = try await AuditedServerTests.v1(
                client,
                delegate,
                .post,
                "/v1/iam/roles",
                ["RoleName": "granted", "AssumeRolePolicyDocument": trust, "Policies": ["read": everything]]
            )
            #expect(response.status == .ok)
            (response, _) = try await AuditedServerTests.v1(
                client,
                delegate,
                .post,
                "/v1/iam/users",
                ["UserName": "member", "Team": "analytics"]
            )
            #expect(response.status == .ok)
        }
    }
}
