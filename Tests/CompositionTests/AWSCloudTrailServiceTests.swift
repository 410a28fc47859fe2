import AccessControl
import AuditTrail
import Catalog
import Composition
import Crypto
import Foundation
import KMS
import Logging
import PostgresStorage
import SealedTesting
import SigV4
import Testing

/// `sealed serve --aws --cloudtrail-bucket B`: the platform, as an identity holding the shipped policy plus read access
/// to the trail's bucket, ingests realistic CloudTrail files from moto's S3 into its data directory's audit trail —
/// its domain key's decrypts once each, a duplicate and a foreign key's event left out, a malformed file skipped and
/// recorded — the trail verifies, and a restart ingests nothing twice.
struct AWSCloudTrailServiceTests {
    static let logger = Logger(label: "aws-cloudtrail")

    /// A user with `docs/aws/platform-policy.json`'s actions (on "*", as the moto fixture's `platform`) and
    /// `s3:ListBucket`/`s3:GetObject`, made with boto3 as the fixture's IAM administrator.
    static func platformWithTrailAccess(_ moto: MotoFixture, python: URL) async throws -> MotoFixture.User {
        let script = #"""
            import boto3, json, os, sys, uuid
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name=sys.argv[2])
            policy = json.load(open(sys.argv[3]))
            actions = sorted({a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])})
            name = "sealed-platform-ct-" + uuid.uuid4().hex[:8]
            user = iam.create_user(UserName=name)["User"]
            iam.put_user_policy(UserName=name, PolicyName="platform", PolicyDocument=json.dumps(policy))
            iam.put_user_policy(UserName=name, PolicyName="platform-on-any", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
            iam.put_user_policy(UserName=name, PolicyName="trail", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}]}))
            key = iam.create_access_key(UserName=name)["AccessKey"]
            print(json.dumps({"arn": user["Arn"], "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}))
            """#
        let policy = TestEnvironment.packageRoot.appendingPathComponent("docs/aws/platform-policy.json")
        let outcome = try await ChildProcess.run(
            python,
            arguments: ["-c", script, moto.endpoint, moto.region, policy.path],
            environment: [
                "AWS_ACCESS_KEY_ID": moto.iamAdmin.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.iamAdmin.secretAccessKey,
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            ],
            deadline: .seconds(60)
        )
        try #require(outcome.status == 0, "creating the platform user failed: \(outcome.errors)")
        return try JSONDecoder().decode(MotoFixture.User.self, from: outcome.standardOutput)
    }

    @Test func cloudTrailFilesReachTheTrailOnceAcrossARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-ct-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await ingestAcrossARestart(storage: .sqlite(dataDirectory: directory), replicated: false)
    }

    /// On PostgreSQL the ingest runs under leadership and keeps its position in the database: a platform started
    /// afresh on it (another replica, or a new leader) reads nothing twice, where a position in a local file would
    /// have started over.
    @Test func onPostgreSQLTheIngestRunsUnderLeadershipAndKeepsItsPositionInTheDatabase() async throws {
        guard let postgres = try PostgresFixture.located() else { return }
        try await postgres.withDatabase { url in
            try await PostgresDatabase.withDatabase(try PostgresURL(url)) { database in
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aws-ct-pg-\(UUID())")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                let options = PlatformConfiguration.PostgresOptions(
                    database: database,
                    rootKeyFile: nil,
                    administratorCredentials: folder.appendingPathComponent("admin.credentials")
                )
                try await ingestAcrossARestart(
                    storage: .postgres(options),
                    replicated: true,
                    environment: ["SEALED_ROOT_KEY": SymmetricKey(size: .bits256).withUnsafeBytes {
                        Data($0).base64EncodedString()
                    }]
                )
            }
        }
    }

    /// The platform ingests three files, then a second platform on the same storage ingests nothing.
    func ingestAcrossARestart(
        storage: PlatformConfiguration.Storage,
        replicated: Bool,
        environment extra: [String: String] = [:]
    ) async throws {
        guard let moto = try MotoFixture.located(), let python = try TestEnvironment.peerPython() else { return }
        let platformUser = try await Self.platformWithTrailAccess(moto, python: python)
        let s3 = try S3Client(
            region: moto.region,
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: moto.iamAdmin.accessKeyId, secretAccessKey: moto.iamAdmin.secretAccessKey)
            ),
            endpoint: moto.endpointURL,
            options: ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))
        )
        let bucket = "sealed-trail-\(UUID().uuidString.prefix(8).lowercased())"
        try await s3.createBucket(bucket)
        let configuration = PlatformConfiguration(
            storage: storage,
            aws: .init(
                endpoint: moto.endpointURL,
                administrators: [moto.iamAdmin.arn],
                cloudTrailBucket: bucket,
                cloudTrailPrefix: "org-trail"
            )
        )
        let environment = moto.environment(as: platformUser).merging(extra) { $1 }
        let tag = UUID().uuidString.prefix(6).lowercased()
        var keyARN = ""
        do {
            let platform = try await SealedPlatform.build(configuration, environment: environment, logger: Self.logger)
            defer { platform.close() }
            _ = try await platform.identities.createTeam("t\(tag)", by: .principal(moto.iamAdmin.arn))
            keyARN = try await platform.catalog.createDomain("d\(tag)", owner: "t\(tag)", by: moto.iamAdmin.arn).keyARN
        }

        // CloudTrail's files: two decrypts on the domain key (one delivered twice), a foreign key's, a broken file.
        let prefix = "org-trail/AWSLogs/\(moto.account)/CloudTrail/\(moto.region)/2026/12/05/"
        func name(_ minute: Int) -> String {
            prefix + "\(moto.account)_CloudTrail_\(moto.region)_20261205T01\(minute)Z_\(tag).json.gz"
        }
        let decrypt = { (id: String) in
            CloudTrailIngestTests.decrypt(id, key: keyARN).replacingOccurrences(
                of: CloudTrailIngestTests.account,
                with: moto.account
            )
        }
        let foreign = CloudTrailIngestTests.decrypt("foreign-\(tag)", key: moto.primaryKey)
        try await s3.putObject(
            bucket: bucket,
            key: name(10),
            body: CloudTrailIngestTests.file([decrypt("a-\(tag)"), foreign])
        )
        try await s3.putObject(
            bucket: bucket,
            key: name(15),
            body: CloudTrailIngestTests.file([decrypt("a-\(tag)"), decrypt("b-\(tag)")])
        )
        try await s3.putObject(bucket: bucket, key: name(20), body: Array("not gzip".utf8))

        for start in 1...2 {
            let platform = try await SealedPlatform.build(configuration, environment: environment, logger: Self.logger)
            defer { platform.close() }
            let service = try #require(Self.service(CloudTrailService.self, of: platform, led: replicated))
            let report = try await service.ingest.run()
            let trail = try await platform.audit.store.tail(after: 0, limit: 10_000).map(\.record)
            #expect(trail.filter { $0.eventSource == .kms }.map(\.eventID).sorted() == ["a-\(tag)", "b-\(tag)"])
            #expect(trail.filter { $0.eventName == "SkipCloudTrailFile" }.count == 1)
            if start == 1 {
                #expect(
                    report.files == 3 && report.appended == 2 && report.duplicates == 1 && report.skipped == [name(20)]
                )
            } else {
                #expect(report.files == 0 && report.appended == 0, "a restart reads nothing twice")
            }
            // The digest signer, as the running server's does within a minute, covers what was appended.
            let signer = try #require(
                Self.service(DigestService<ContinuousClock>.self, of: platform, led: replicated)
            )
            _ = try await signer.signIfNeeded()
            let verification = try await platform.audit.verify()
            #expect(verification.isValid, "\(verification)")
        }
    }

    /// The platform's service of type `type`: as it is, or (`led`) run under leadership, never both.
    static func service<S>(_ type: S.Type, of platform: SealedPlatform, led: Bool) -> S? {
        let plain = platform.services.lazy.compactMap { $0 as? S }.first
        let underLeadership = platform.services.lazy.compactMap { ($0 as? LeaderService)?.service as? S }.first
        return led ? (plain == nil ? underLeadership : nil) : (underLeadership == nil ? plain : nil)
    }
}
