import Foundation
import KMS
import SealedTesting
import SigV4
import Synchronization
import Testing

/// The STS client and role sessions against moto, and the refreshing provider on a test clock.
struct STSTests {
    @Test func callerIdentity() async throws {
        guard let moto = try Moto.located() else { return }
        let identity = try await moto.sts().getCallerIdentity()
        #expect(identity.arn == moto.allowed.arn)
        #expect(identity.account == moto.account)
        #expect(identity.userId?.isEmpty == false)
    }

    @Test func assumeRole() async throws {
        guard let moto = try Moto.located() else { return }
        let response = try await moto.sts().assumeRole(
            AssumeRoleRequest(
                roleArn: moto.role.arn,
                roleSessionName: "consumer-1",
                durationSeconds: 900,
                externalId: "ext-1",
                policy: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#
            )
        )
        #expect(response.credentials.accessKeyId.hasPrefix("ASIA"))
        #expect(!response.credentials.sessionToken.isEmpty)
        #expect(response.assumedRoleArn == "arn:aws:sts::\(moto.account):assumed-role/\(moto.role.name)/consumer-1")
        let lifetime = response.credentials.expiration.timeIntervalSinceNow
        #expect(lifetime > 800 && lifetime <= 901)
    }

    @Test func refusedAssumeRoleIsAccessDenied() async throws {
        guard let moto = try Moto.located() else { return }
        do {
            _ = try await moto.sts(moto.denied).assumeRole(
                AssumeRoleRequest(roleArn: moto.role.arn, roleSessionName: "x")
            )
            Issue.record("the denied user assumed the role")
        } catch let error as STSError {
            #expect(error == .accessDenied)
            #expect(error.statusCode == 403)
            #expect(error.message.contains("sts:AssumeRole"))
        }
    }

    /// The user assumes the role, uses the session for KMS, and the provider renews the session once the
    /// (test) clock passes its expiry.
    @Test func roleSessionFlowWithRefresh() async throws {
        guard let moto = try Moto.located() else { return }
        let clock = TestClock()
        let provider = RefreshingCredentialProvider.assumingRole(
            AssumeRoleRequest(roleArn: moto.role.arn, roleSessionName: "reader", durationSeconds: 900),
            sts: try moto.sts(),
            clock: clock
        )
        let sessionSTS = try STSClient(
            region: moto.region,
            credentialProvider: provider,
            endpoint: moto.endpointURL,
            options: Moto.options
        )
        let identity = try await sessionSTS.getCallerIdentity()
        #expect(identity.arn == "arn:aws:sts::\(moto.account):assumed-role/\(moto.role.name)/reader")

        let kms = try moto.kms(provider: provider)
        let first = try await provider.credentials()
        #expect(first.sessionToken != nil && first.accessKeyId.hasPrefix("ASIA"))
        let encrypted = try await kms.encrypt(EncryptRequest(keyId: moto.primaryKey, plaintext: Data("s".utf8)))
        #expect(encrypted.keyId == moto.primaryKey)
        #expect(await provider.fetchCount == 1, "one session serves many calls")

        clock.advance(by: .seconds(600))  // 5 minutes left: inside the refresh window
        let renewed = try await provider.credentials()
        #expect(renewed.accessKeyId != first.accessKeyId)
        #expect(await provider.fetchCount == 2)

        clock.advance(by: .seconds(3600))  // long expired
        let decrypted = try await kms.decrypt(DecryptRequest(ciphertextBlob: try #require(encrypted.ciphertextBlob)))
        #expect(decrypted.plaintext == Data("s".utf8))
        #expect(await provider.fetchCount == 3)
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = TestClock()
        let fetches = Atomic<Int>(0)
        let provider = RefreshingCredentialProvider(clock: clock) {
            let number = fetches.add(1, ordering: .relaxed).newValue
            try await Task.sleep(for: .milliseconds(50))
            return ExpiringCredentials(
                credentials: Credentials(accessKeyId: "ASIA\(number)", secretAccessKey: "s", sessionToken: "t"),
                expiration: Date().addingTimeInterval(3600)
            )
        }
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids == ["ASIA1"])
        #expect(fetches.load(ordering: .relaxed) == 1)
        clock.advance(by: .seconds(3400))
        #expect(try await provider.credentials().accessKeyId == "ASIA2")
    }

    @Test func failedRefreshKeepsValidCredentials() async throws {
        let clock = TestClock()
        let calls = Atomic<Int>(0)
        let provider = RefreshingCredentialProvider(clock: clock) {
            if calls.add(1, ordering: .relaxed).newValue > 1 { throw STSError.accessDenied }
            return ExpiringCredentials(
                credentials: Credentials(accessKeyId: "ASIAFIRST", secretAccessKey: "s", sessionToken: "t"),
                expiration: Date().addingTimeInterval(900)
            )
        }
        _ = try await provider.credentials()
        clock.advance(by: .seconds(700))  // in the refresh window, still valid
        #expect(try await provider.credentials().accessKeyId == "ASIAFIRST")
        clock.advance(by: .seconds(300))  // expired
        await #expect(throws: STSError.accessDenied) { _ = try await provider.credentials() }
    }

    /// A profile with `role_arn` + `source_profile` assumes the role through STS.
    @Test func roleProfileAssumesRole() async throws {
        guard let moto = try Moto.located() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kms-role-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("config")
        let credentials = folder.appendingPathComponent("credentials")
        try """
        [profile reader]
        role_arn = \(moto.role.arn)
        source_profile = base
        role_session_name = from-profile
        duration_seconds = 900
        region = \(moto.region)
        """.write(to: config, atomically: true, encoding: .utf8)
        try """
        [base]
        aws_access_key_id = \(moto.allowed.accessKeyId)
        aws_secret_access_key = \(moto.allowed.secretAccessKey)
        """.write(to: credentials, atomically: true, encoding: .utf8)
        let configuration = try AWSConfiguration.resolve(
            environment: [
                "AWS_CONFIG_FILE": config.path, "AWS_SHARED_CREDENTIALS_FILE": credentials.path,
                "AWS_PROFILE": "reader", "AWS_ENDPOINT_URL": moto.endpoint, "HOME": folder.path,
            ],
            options: Moto.options
        )
        let identity = try await STSClient(configuration: configuration, options: Moto.options).getCallerIdentity()
        #expect(identity.arn == "arn:aws:sts::\(moto.account):assumed-role/\(moto.role.name)/from-profile")
        let kms = try KMSClient(configuration: configuration, options: Moto.options)
        let key = try await kms.generateDataKey(GenerateDataKeyRequest(keyId: moto.alias, numberOfBytes: 32))
        #expect(key.keyId == moto.primaryKey)
    }
}
