import AWSGovernance
import AsyncHTTPClient
import AuditTrail
import Composition
import Foundation
import KMS
import Logging
import NIOCore
import NIOHTTP1
import PlatformClient
import SealedServerTesting
import SealedTesting
import Server
import SigV4
import Testing
import WireShapes

/// `sealed serve --aws` over HTTP, against moto with IAM enforced: `/v1` callers prove who they are with a signed
/// `GetCallerIdentity` (the SDK's ``PlatformClient/CallerIdentitySigner``), administrators are the named principals,
/// each kind of refused identity gets its own error, the embedded KMS is not served, and `GET /v1/aws/drift` names
/// hand edits that `POST /v1/aws/drift/fix` restores, keeping statements the platform did not write.
struct AWSModeServerTests {
    static let logger = Logger(label: "aws-mode-server")
    static let options = ClientOptions(maxAttempts: 1, timeout: .seconds(15))

    static func credentials(_ user: MotoFixture.User) -> StaticCredentialProvider {
        StaticCredentialProvider(Credentials(accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey))
    }

    static func sts(_ moto: MotoFixture, _ user: MotoFixture.User) throws -> STSClient {
        try STSClient(
            region: moto.region,
            credentialProvider: credentials(user),
            endpoint: moto.endpointURL,
            options: options
        )
    }

    /// A client of the server at `port` as `user`, discovering the server's id.
    static func client(
        _ moto: MotoFixture,
        _ user: MotoFixture.User,
        port: Int,
        serverID: String? = nil
    ) throws
        -> PlatformClient
    {
        let url = URL(string: "http://127.0.0.1:\(port)")!
        var client = try PlatformClient(
            endpoint: url,
            region: moto.region,
            credentialProvider: credentials(user),
            options: options
        )
        client.callerIdentity = CallerIdentitySigner(sts: try sts(moto, user), serverID: serverID, server: url)
        return client
    }

    static func platform(_ moto: MotoFixture) async throws -> SealedPlatform {
        try await SealedPlatform.build(
            PlatformConfiguration(
                storage: .memory,
                aws: .init(
                    endpoint: moto.endpointURL,
                    administrators: [moto.iamAdmin.arn],
                    serverID: "sealed-\(UUID())"
                )
            ),
            environment: moto.environment(),
            logger: logger
        )
    }

    static func refusal(_ body: () async throws -> Any) async -> PlatformError? {
        do {
            _ = try await body()
            Issue.record("the request was accepted")
            return nil
        } catch let error as PlatformError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func callersProveTheirAWSIdentityAndEachRefusalSaysWhy() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let platform = try await Self.platform(moto)
        defer { platform.close() }
        let server = SealedServer(platform, configuration: .init(port: 0), logger: Self.logger)
        let serverID = try #require(platform.aws?.serverID)
        try await withLiveServer(server, logger: Self.logger) { port in
            // The administrator, named by ARN, creates a team; the SDK learned the server's id from GET /v1/server.
            let admin = try Self.client(moto, moto.iamAdmin, port: port)
            let team = "t\(UUID().uuidString.prefix(6).lowercased())"
            _ = try await admin.send(.createTeam, input: TeamInput(teamName: team), as: TeamAnswer.self)
            #expect(try await admin.callerIdentity?.serverID() == serverID)
            _ = try await admin.send(
                .addUserToTeam,
                [team],
                input: MemberInput(principalArn: moto.allowed.arn),
                as: EmptyResponse.self
            )

            // Another AWS user is who STS says, and no administrator.
            let other = try Self.client(moto, moto.allowed, port: port)
            let denied = await Self.refusal {
                try await other.send(.createTeam, input: TeamInput(teamName: team + "x"), as: TeamAnswer.self)
            }
            #expect(denied?.code == "AccessDenied")
            #expect(denied?.message.contains(moto.allowed.arn) == true)

            // No signed identity, one made for another server, a tampered one, and another action: each refused.
            var anonymous = try Self.client(moto, moto.iamAdmin, port: port)
            anonymous.callerIdentity = nil
            let missing = await Self.refusal { try await anonymous.send(.listTeams, as: TeamList.self) }
            #expect(missing?.code == "MissingAuthenticationTokenException" && missing?.statusCode == 403)
            let replayed = try Self.client(moto, moto.iamAdmin, port: port, serverID: "another-server")
            let wrong = await Self.refusal { try await replayed.send(.listTeams, as: TeamList.self) }
            #expect(wrong?.code == "WrongAudience" && wrong?.statusCode == 403)
            let signed = try await Self.sts(moto, moto.iamAdmin).signedCallerIdentity(audience: serverID)
            var headers = signed.headers
            let index = try #require(headers.firstIndex { $0.name.lowercased() == "authorization" })
            headers[index].value = String(headers[index].value.dropLast(4)) + "0000"
            let forged = SignedCallerIdentity(headers: headers)
            let rejected = try await Self.rawStatus(port: port, header: forged.encoded)
            #expect(rejected.status == 403 && rejected.body.contains("RejectedBySTS"))
            let notGetCallerIdentity = SignedCallerIdentity(
                headers: signed.headers,
                body: "Action=GetSessionToken&Version=2011-06-15"
            )
            let other2 = try await Self.rawStatus(port: port, header: notGetCallerIdentity.encoded)
            #expect(other2.status == 403 && other2.body.contains("NotGetCallerIdentity"))

            // The embedded KMS is not served in AWS mode.
            let kms = try await Self.rawStatus(port: port, header: nil, path: "/", method: .POST)
            #expect(kms.status == 404 || kms.status == 403)
        }
    }

    /// One request with `header` (or none) as ``WireShapes/SignedCallerIdentity/header``: its status and body.
    static func rawStatus(
        port: Int,
        header: String?,
        path: String = "/v1/iam/teams",
        method: HTTPMethod = .GET
    )
        async throws -> (status: Int, body: String)
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let header { request.headers.add(name: SignedCallerIdentity.header, value: header) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 65_536)
        return (Int(response.status.code), String(buffer: body))
    }

    @Test func driftIsNamedAndFixedKeepingForeignStatements() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let platform = try await Self.platform(moto)
        defer { platform.close() }
        let server = SealedServer(platform, configuration: .init(port: 0), logger: Self.logger)
        let adminIAM = try IAMClient(
            region: moto.region,
            credentialProvider: Self.credentials(moto.iamAdmin),
            endpoint: moto.endpointURL,
            options: Self.options
        )
        let adminKMS = try KMSClient(
            region: moto.region,
            credentialProvider: Self.credentials(moto.allowed),
            endpoint: moto.endpointURL,
            options: Self.options
        )
        try await withLiveServer(server, logger: Self.logger) { port in
            let admin = try Self.client(moto, moto.iamAdmin, port: port)
            let tag = UUID().uuidString.prefix(6).lowercased()
            let (team, domain) = ("t\(tag)", "d\(tag)")
            let type = "\(domain).order.placed"
            _ = try await admin.send(.createTeam, input: TeamInput(teamName: team), as: TeamAnswer.self)
            _ = try await admin.send(
                .addUserToTeam,
                [team],
                input: MemberInput(principalArn: moto.denied.arn),
                as: EmptyResponse.self
            )
            _ = try await admin.send(
                .addUserToTeam,
                [team],
                input: MemberInput(principalArn: moto.tableReader.arn),
                as: EmptyResponse.self
            )
            let created = try await admin.send(
                .createDomain,
                input: CreateDomainInput(domain: domain, owner: team),
                as: DomainOutput.self
            )
            let keyARN = created.output.keyArn
            _ = try await admin.send(
                .createEventType,
                input: EventTypeInput(eventType: type, domain: domain, approvalsRequired: 1),
                as: EventTypeOutput.self
            )
            // A member who joins later gets the team's producer policy too.
            _ = try await admin.send(
                .addUserToTeam,
                [team],
                input: MemberInput(principalArn: moto.allowed.arn),
                as: EmptyResponse.self
            )
            let attached = try await adminIAM.attachedPolicies(of: .user("sealed-allowed")).map(\.policyArn)
            #expect(
                attached.contains(
                    "arn:aws:iam::\(moto.account):policy/sealed/\(AWSNames.producerPolicy(domain: domain))"
                )
            )
            var report = try await admin.send(.checkAWSAccount, as: AWSDriftReport.self).output
            #expect(report.differences.isEmpty)
            #expect(report.readers[type] == [])

            // By hand: a stranger in the trust policy beside a break-glass statement, the permission policy
            // widened, the key policy replaced.
            let roleName = AWSNames.readerRole(eventType: type)
            var trust = TrustPolicy()
            trust.grant(moto.allowed.arn, until: nil)
            let forged = try TrustPolicy(parsing: trust.document)
            let breakGlass =
                #"{"Sid":"BreakGlass","Effect":"Allow","Principal":{"AWS":"\#(moto.iamAdmin.arn)"},"Action":"sts:AssumeRole"}"#
            let document = forged.document.replacingOccurrences(
                of: #""Statement":["#,
                with: #""Statement":[\#(breakGlass),"#
            )
            try await adminIAM.updateAssumeRolePolicy(roleName: roleName, document: document)
            try await adminIAM.putRolePolicy(
                roleName: roleName,
                policyName: AWSNames.readerPolicyName,
                document:
                    #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#
            )
            try await adminKMS.putKeyPolicy(
                PutKeyPolicyRequest(
                    keyId: keyARN,
                    policy:
                        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#
                )
            )
            report = try await admin.send(.checkAWSAccount, as: AWSDriftReport.self).output
            #expect(report.differences.contains { $0.contains(moto.allowed.arn) && $0.contains("holds no grant") })
            #expect(report.differences.contains { $0.contains("permission policy was changed") })
            #expect(report.differences.contains { $0.contains(keyARN) })
            #expect(
                report.readers[type]?.contains(moto.allowed.arn) == true,
                "the live documents let the stranger read"
            )

            // Someone else may not look; the administrator fixes it: the stranger is gone, break-glass stays.
            let other = try Self.client(moto, moto.allowed, port: port)
            let refused = await Self.refusal { try await other.send(.checkAWSAccount, as: AWSDriftReport.self) }
            #expect(refused?.code == "AccessDenied")
            report = try await admin.send(.fixAWSAccount, as: AWSDriftReport.self).output
            #expect(report.differences.isEmpty)
            let live = try TrustPolicy(
                parsing: try #require(try await adminIAM.getRole(name: roleName).assumeRolePolicyDocument)
            )
            #expect(live.grants.isEmpty)
            #expect(live.foreignStatementCount == 1)
            #expect(
                report.readers[type] == [moto.iamAdmin.arn],
                "only the break-glass principal, by the live documents"
            )

            // The periodic check records drift in the audit trail.
            try await adminIAM.deleteRolePolicy(roleName: roleName, policyName: AWSNames.readerPolicyName)
            let service = AWSDriftService(
                account: try #require(platform.aws),
                catalog: platform.catalog,
                access: platform.access,
                sink: platform.audit.sink,
                interval: .seconds(3600),
                logger: Self.logger
            )
            let found = try await service.checkOnce()
            #expect(found.count == 1)
            let records = try await platform.audit.store.query(AuditQuery(eventName: "AWSDriftDetected"))
            #expect(records.count == 1)
        }
    }
}
