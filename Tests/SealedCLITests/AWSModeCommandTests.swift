import Foundation
import SealedTesting
import Testing

/// The built `sealed serve --aws` against moto with IAM enforced, as the fixture's `platform` user, driven by the
/// built CLI with `--aws` as AWS users of moto (made with boto3 for the test): the administrator's team, domain and
/// event type; a request, a refused self-review, two approvals; the matrix; `aws check` for the administrator and
/// refused to anyone else; an unknown caller refused; a start refused when the identity lacks the policy.
struct AWSModeCommandTests {
    typealias Person = AWSPerson

    /// Users allowed `sts:GetCallerIdentity` (moto checks it), made with boto3 as the fixture's IAM administrator.
    static func people(_ names: [String], _ moto: MotoFixture, python: URL) async throws -> [String: Person] {
        let script = #"""
            import boto3, json, sys
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name=sys.argv[2])
            people = {}
            for name in sys.argv[3:]:
                user = iam.create_user(UserName=name)["User"]
                iam.put_user_policy(UserName=name, PolicyName="whoami", PolicyDocument=json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
                key = iam.create_access_key(UserName=name)["AccessKey"]
                people[name] = {"arn": user["Arn"], "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}
            print(json.dumps(people))
            """#
        let outcome = try await ChildProcess.run(
            python,
            arguments: ["-c", script, moto.endpoint, moto.region] + names,
            environment: [
                "AWS_ACCESS_KEY_ID": moto.iamAdmin.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.iamAdmin.secretAccessKey,
            ],
            deadline: .seconds(60)
        )
        try #require(outcome.status == 0, "creating the people failed: \(outcome.errors)")
        return try JSONDecoder().decode([String: Person].self, from: outcome.standardOutput)
    }

    @Test func theCLIPlaysTheAccessStoryAgainstAnAWSAccount() async throws {
        guard let moto = try MotoFixture.located(), let python = try TestEnvironment.peerPython() else { return }
        let tag = UUID().uuidString.prefix(6).lowercased()
        let names = ["alice", "bob", "dave", "carol"].map { "\($0)-\(tag)" }
        let people = try await Self.people(names, moto, python: python)
        let (alice, bob, dave, carol) = (people[names[0]]!, people[names[1]]!, people[names[2]]!, people[names[3]]!)
        let aws = try AWSModeCLI(moto, administrator: alice.arn)
        defer { aws.stop() }
        let (sealed, succeeds) = (aws.sealed, aws.succeeds)

        let (team, domain) = ("payments-\(tag)", "payments\(tag)")
        let type = "\(domain).card.captured"
        _ = try await succeeds(alice, ["iam", "create-team", team])
        _ = try await succeeds(alice, ["iam", "add-member", team, "--principal-arn", bob.arn])
        _ = try await succeeds(alice, ["iam", "add-member", team, "--principal-arn", dave.arn])
        let created = try await succeeds(alice, ["catalog", "create-domain", domain, "--owner", team])
        #expect(created.contains("arn:aws:kms:\(moto.region):\(moto.account):key/"))
        let typed = try await succeeds(
            alice,
            ["catalog", "create-event-type", type, "--domain", domain, "--approvals", "2"]
        )
        #expect(typed.contains("arn:aws:iam::\(moto.account):role/sealed/sealed-reader-\(type)"))

        // Someone who is not an administrator may not change the catalog.
        let refused = try await sealed(carol, ["iam", "create-team", "x\(tag)"])
        #expect(refused.status != 0 && refused.output.contains("AccessDenied"))

        let requested = try await succeeds(
            carol,
            ["access", "request", type, "--justification", "fraud", "--duration", "1h"]
        )
        let id = try #require(
            requested.range(of: #"ar-[0-9a-f]+"#, options: .regularExpression).map { String(requested[$0]) }
        )
        let selfReview = try await sealed(carol, ["access", "approve", id, "--comment", "me"])
        #expect(selfReview.status != 0 && selfReview.output.contains("not a member of \(team)"))
        _ = try await succeeds(bob, ["access", "approve", id, "--comment", "ok"])
        let approved = try await succeeds(dave, ["access", "approve", id, "--comment", "ok"])
        #expect(approved.contains("approved"))
        let matrix = try await succeeds(alice, ["access", "matrix"])
        #expect(matrix.contains(carol.arn) && matrix.contains(type))

        // The account agrees, by the live documents: carol can read the type.
        let check = try await succeeds(alice, ["aws", "check"])
        #expect(check.contains("no drift"))
        #expect(check.contains("readers of \(type): \(carol.arn)"))
        let notAdmin = try await sealed(bob, ["aws", "check"])
        #expect(notAdmin.status != 0 && notAdmin.output.contains("aws:CheckAccount"))

        // A caller STS does not know is refused by STS, through the server.
        let stranger = Person(arn: "", accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "nothing")
        let unknown = try await sealed(stranger, ["access", "matrix"])
        #expect(unknown.status != 0 && unknown.output.contains("RejectedBySTS"))
    }

    @Test func aPlatformIdentityWithoutThePolicyDoesNotStart() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aws-cli-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try await ChildProcess.run(
            try TestEnvironment.sealedBinary,
            arguments: [
                "serve", "--aws", "--aws-endpoint-url", moto.endpoint, "--admin-principal-arn", moto.iamAdmin.arn,
                "--data-dir", folder.path, "--port", "0",
            ],
            environment: moto.environment(as: moto.tableReader),
            mergingErrors: true,
            deadline: .seconds(60)
        )
        #expect(outcome.status != 0)
        // moto answers GetCallerIdentity for any known key: the first call refused is KMS's.
        #expect(outcome.output.contains("(\(moto.tableReader.arn)) cannot kms:ListKeys"))
        #expect(outcome.output.contains("platform-policy.json"))
        #expect(!outcome.output.contains(moto.tableReader.secretAccessKey))
    }
}
