import Foundation
import SealedTesting
import Testing

/// `sealed catalog create-domain --key-arn`: in AWS mode (the built `sealed serve --aws` against moto with IAM
/// enforced) an existing symmetric, enabled key becomes the domain's key — tagged, with the platform's key policy and
/// the domain's alias, read back with boto3 — and an asymmetric key, a disabled key, or a key already another
/// domain's is refused with the reason; outside AWS mode the option is refused.
struct AWSKeyAdoptionCommandTests {
    struct Keys: Decodable {
        var symmetric: String
        var signing: String
        var disabled: String
    }

    /// What boto3 reads back about a key: its tags, the aliases naming it, its key policy.
    struct KeyState: Decodable {
        var tags: [String: String]
        var aliases: [String]
        var policy: String
    }

    /// Three keys made by the account's key owner (the fixture's `allowed` user, `kms:*`), none tagged.
    static func keys(_ moto: MotoFixture, python: URL) async throws -> Keys {
        let script = #"""
            import boto3, json, sys
            kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name=sys.argv[2])
            arn = lambda **kwargs: kms.create_key(**kwargs)["KeyMetadata"]["Arn"]
            keys = {"symmetric": arn(Description="adopted"),
                    "signing": arn(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256"),
                    "disabled": arn(Description="disabled")}
            kms.disable_key(KeyId=keys["disabled"].split("/")[-1])  # moto 5 takes only the id here
            print(json.dumps(keys))
            """#
        let data = try await AWSModeCLI.boto3(script, [], as: moto.allowed, moto, python: python)
        return try JSONDecoder().decode(Keys.self, from: data)
    }

    static func state(of key: String, _ moto: MotoFixture, python: URL) async throws -> KeyState {
        let script = #"""
            import boto3, json, sys
            kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name=sys.argv[2])
            key = sys.argv[3]
            key_id = kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"]
            tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key)["Tags"]}
            aliases = [a["AliasName"] for a in kms.list_aliases()["Aliases"] if a.get("TargetKeyId") == key_id]
            policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
            print(json.dumps({"tags": tags, "aliases": aliases, "policy": policy}))
            """#
        let data = try await AWSModeCLI.boto3(script, [key], as: moto.allowed, moto, python: python)
        return try JSONDecoder().decode(KeyState.self, from: data)
    }

    @Test func anExistingKeyIsAdoptedAndAnUnfitOneRefused() async throws {
        guard let moto = try MotoFixture.located(), let python = try TestEnvironment.peerPython() else { return }
        let tag = UUID().uuidString.prefix(6).lowercased()
        let alice = try #require(try await AWSModeCommandTests.people(["alice-\(tag)"], moto, python: python).first?.value)
        let keys = try await Self.keys(moto, python: python)
        let aws = try AWSModeCLI(moto, administrator: alice.arn)
        defer { aws.stop() }
        func sealed(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await aws.sealed(alice, arguments)
        }

        let (team, domain) = ("ledger-\(tag)", "ledger\(tag)")
        #expect(try await sealed(["iam", "create-team", team]).status == 0)
        let adopted = try await sealed(["catalog", "create-domain", domain, "--owner", team, "--key-arn", keys.symmetric])
        #expect(adopted.status == 0, "\(adopted.output)")
        #expect(adopted.output.contains("key \(keys.symmetric)"))
        let state = try await Self.state(of: keys.symmetric, moto, python: python)
        #expect(state.tags["sealed:domain"] == domain)
        #expect(state.aliases == ["alias/sealed/\(domain)"])
        #expect(state.policy.contains("kms:EncryptionContext:eventType"))

        // An event type of the domain is sealed under the adopted key.
        let typed = try await sealed(["catalog", "create-event-type", "\(domain).entry.posted", "--domain", domain])
        #expect(typed.status == 0, "\(typed.output)")
        #expect(try await sealed(["catalog", "show", "\(domain).entry.posted"]).output.contains(keys.symmetric))

        let refusals = [
            ("signing\(tag)", keys.signing, "is not a symmetric encryption key"),
            ("disabled\(tag)", keys.disabled, "is not enabled"),
            ("again\(tag)", keys.symmetric, "is already the key of the domain \(domain)"),
            ("missing\(tag)", "arn:aws:kms:\(moto.region):\(moto.account):key/\(UUID())", "KMS has no key"),
        ]
        for (name, key, reason) in refusals {
            let refused = try await sealed(["catalog", "create-domain", name, "--owner", team, "--key-arn", key])
            #expect(refused.status != 0)
            #expect(refused.output.contains(reason), "\(name): \(refused.output)")
            #expect(!refused.output.contains(moto.platform.secretAccessKey))
        }
        // A refused adoption leaves no domain behind, and no tag on the unfit key.
        let listed = try await sealed(["catalog", "list"])
        #expect(listed.output.contains(domain) && !listed.output.contains("signing\(tag)"))
        #expect(try await Self.state(of: keys.signing, moto, python: python).tags["sealed:domain"] == nil)
    }

    @Test func outsideAWSModeAKeyIsNotAdopted() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let server = try ServeCommandTests.RunningServer(dataDirectory: data)
        defer { _ = server.stop() }
        let environment = server.administratorEnvironment
        let endpoint = ["--endpoint-url", server.endpoint.absoluteString]
        #expect(try await ESDKCommandTests.sealed(["iam", "create-team", "ledger"] + endpoint, environment: environment).status == 0)
        let refused = try await ESDKCommandTests.sealed(
            ["catalog", "create-domain", "ledger", "--owner", "ledger", "--key-arn", "arn:aws:kms:eu-west-1:111122223333:key/x"]
                + endpoint,
            environment: environment
        )
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("only available in AWS mode"), "\(refused.stderr)")
    }
}
