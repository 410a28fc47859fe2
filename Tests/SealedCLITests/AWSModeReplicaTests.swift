import Foundation
import SealedTesting
import Testing

/// AWS mode on PostgreSQL: two `sealed serve --aws --database …` replicas against moto, driven by the built CLI with
/// `--aws` as moto users, each step through either replica; a replica without `--server-id` is refused at start (it
/// would make up an audience of its own, and callers' signatures for the other replica would be refused).
struct AWSModeReplicaTests {
    @Test func twoAWSModeReplicasServeOneAccountAndNeedOneServerID() async throws {
        guard let moto = try MotoFixture.located(), let python = try TestEnvironment.peerPython(),
            let postgres = try PostgresFixture.located()
        else { return }
        let tag = UUID().uuidString.prefix(6).lowercased()
        let names = ["alice", "bob"].map { "\($0)-\(tag)" }
        let people = try await AWSModeCommandTests.people(names, moto, python: python)
        let (alice, bob) = (people[names[0]]!, people[names[1]]!)
        try await postgres.withDatabase { url in
            let folder = try ESDKCommandTests.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let rootKey = ServeReplicaTests.newRootKey()
            let credentials = folder.appendingPathComponent("admin.credentials")
            let aws = ["--aws", "--aws-endpoint-url", moto.endpoint, "--admin-principal-arn", alice.arn]

            let refused = try await ChildProcess.run(
                try TestEnvironment.sealedBinary,
                arguments: ["serve", "--database", url, "--port", "0"] + aws,
                environment: moto.environment().merging(["SEALED_ROOT_KEY": rootKey]) { $1 },
                mergingErrors: true,
                deadline: .seconds(60)
            )
            #expect(refused.status != 0 && refused.output.contains("--server-id"), "\(refused.output)")

            let replica = {
                try ServeProcess(
                    database: url,
                    rootKey: rootKey,
                    administratorCredentials: credentials,
                    arguments: aws + ["--server-id", "sealed-replicas-\(tag)"],
                    environment: moto.environment()
                )
            }
            let a = try replica()
            defer { a.remove() }
            let b = try replica()
            defer { b.remove() }
            let (endpointA, endpointB) = (a.endpoint, b.endpoint)
            let sealed = { @Sendable (endpoint: URL, person: AWSPerson, arguments: [String]) in
                let outcome = try await ChildProcess.run(
                    try TestEnvironment.sealedBinary,
                    arguments: arguments + [
                        "--aws", "--aws-endpoint-url", moto.endpoint, "--endpoint-url", endpoint.absoluteString,
                    ],
                    environment: moto.environment(
                        as: .init(arn: person.arn, accessKeyId: person.accessKeyId, secretAccessKey: person.secretAccessKey)
                    ),
                    mergingErrors: true,
                    deadline: .seconds(60)
                )
                return (outcome.status, outcome.output)
            }

            let (team, domain) = ("payments-\(tag)", "payments\(tag)")
            let created = try await sealed(endpointA, alice, ["iam", "create-team", team])
            #expect(created.0 == 0, "\(created.1)")
            // B learns of the team through the change feed; then the member added through B is seen through A.
            try await eventually("B knows the team", limit: .seconds(30)) {
                try await sealed(endpointB, alice, ["iam", "add-member", team, "--principal-arn", bob.arn]).0 == 0
            }
            let domainCreated = try await sealed(endpointA, alice, ["catalog", "create-domain", domain, "--owner", team])
            #expect(domainCreated.0 == 0 && domainCreated.1.contains("arn:aws:kms:\(moto.region):\(moto.account):key/"))
            // B governs the account as A left it: the domain's key, tag, alias and key policy are as the catalog says.
            try await eventually("B finds no drift", limit: .seconds(30)) {
                try await sealed(endpointB, alice, ["aws", "check"]).0 == 0
            }
            // Bob is no administrator on either replica.
            let refusedB = try await sealed(endpointB, bob, ["iam", "create-team", "x\(tag)"])
            #expect(refusedB.0 != 0 && refusedB.1.contains("AccessDenied"), "\(refusedB.1)")
            #expect(b.stop() == 0)
            #expect(a.stop() == 0)
        }
    }
}
