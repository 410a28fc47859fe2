import Foundation
import SealedTesting
import Testing

/// Team members that are IAM roles or role-session patterns, with the built `sealed serve --aws` against moto (IAM
/// enforced) and the built CLI: a reviewer acting through an assumed-role session matching the team's pattern
/// approves; a session of the same role outside the pattern is refused; a role member gets the domain's producer
/// policy attached (read back with boto3); an ARN that is neither is refused.
struct AWSRoleMembersCommandTests {
    /// As the fixture's IAM administrator: users (allowed `sts:GetCallerIdentity` and `sts:AssumeRole`), the roles
    /// `reviewers-TAG` (assumable by the user `erin-TAG`) and `producers-TAG`, and two sessions of the reviewers'
    /// role, `erin-review` and `other-review`.
    static func account(tag: String, _ moto: MotoFixture, python: URL) async throws -> [String: AWSPerson] {
        let script = #"""
            import boto3, json, sys
            endpoint, region, tag = sys.argv[1], sys.argv[2], sys.argv[3]
            iam = boto3.client("iam", endpoint_url=endpoint, region_name=region)
            doc = lambda *statements: json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
            allow = lambda action: {"Effect": "Allow", "Action": action, "Resource": "*"}
            out = {}
            for name in ["alice", "bob", "carol", "erin"]:
                user = iam.create_user(UserName="%s-%s" % (name, tag))["User"]
                iam.put_user_policy(UserName=user["UserName"], PolicyName="whoami",
                                    PolicyDocument=doc(allow("sts:GetCallerIdentity"), allow("sts:AssumeRole")))
                key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
                out[name] = {"arn": user["Arn"], "accessKeyId": key["AccessKeyId"],
                             "secretAccessKey": key["SecretAccessKey"]}
            trust = doc({"Effect": "Allow", "Principal": {"AWS": out["erin"]["arn"]}, "Action": "sts:AssumeRole"})
            for role in ["reviewers", "producers"]:
                created = iam.create_role(RoleName="%s-%s" % (role, tag), AssumeRolePolicyDocument=trust)["Role"]
                iam.put_role_policy(RoleName=created["RoleName"], PolicyName="whoami",
                                    PolicyDocument=doc(allow("sts:GetCallerIdentity")))
                out[role] = {"arn": created["Arn"], "accessKeyId": "", "secretAccessKey": ""}
            sts = boto3.client("sts", endpoint_url=endpoint, region_name=region,
                               aws_access_key_id=out["erin"]["accessKeyId"],
                               aws_secret_access_key=out["erin"]["secretAccessKey"])
            for session in ["erin-review", "other-review"]:
                assumed = sts.assume_role(RoleArn=out["reviewers"]["arn"], RoleSessionName=session)
                c = assumed["Credentials"]
                out[session] = {"arn": assumed["AssumedRoleUser"]["Arn"], "accessKeyId": c["AccessKeyId"],
                                "secretAccessKey": c["SecretAccessKey"], "sessionToken": c["SessionToken"]}
            print(json.dumps(out))
            """#
        let data = try await AWSModeCLI.boto3(script, [tag], as: moto.iamAdmin, moto, python: python)
        return try JSONDecoder().decode([String: AWSPerson].self, from: data)
    }

    /// The ARNs of the managed policies attached to `role`, read with boto3 as the IAM administrator.
    static func attachedPolicies(ofRole role: String, _ moto: MotoFixture, python: URL) async throws -> [String] {
        let script = #"""
            import boto3, json, sys
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name=sys.argv[2])
            attached = iam.list_attached_role_policies(RoleName=sys.argv[3])["AttachedPolicies"]
            print(json.dumps([p["PolicyArn"] for p in attached]))
            """#
        let data = try await AWSModeCLI.boto3(script, [role], as: moto.iamAdmin, moto, python: python)
        return try JSONDecoder().decode([String].self, from: data)
    }

    @Test func aReviewerActingThroughAnAssumedRoleSessionApproves() async throws {
        guard let moto = try MotoFixture.located(), let python = try TestEnvironment.peerPython() else { return }
        let tag = UUID().uuidString.prefix(6).lowercased()
        let people = try await Self.account(tag: tag, moto, python: python)
        let (alice, bob, carol) = (people["alice"]!, people["bob"]!, people["carol"]!)
        let (erin, other) = (people["erin-review"]!, people["other-review"]!)
        let (reviewers, producers) = (people["reviewers"]!.arn, people["producers"]!.arn)
        #expect(erin.arn == "arn:aws:sts::\(moto.account):assumed-role/reviewers-\(tag)/erin-review")
        let aws = try AWSModeCLI(moto, administrator: alice.arn)
        defer { aws.stop() }
        let (sealed, succeeds) = (aws.sealed, aws.succeeds)

        let (team, domain) = ("risk-\(tag)", "risk\(tag)")
        let type = "\(domain).score.computed"
        let pattern = "arn:aws:sts::\(moto.account):assumed-role/reviewers-\(tag)/erin-*"
        _ = try await succeeds(alice, ["iam", "create-team", team])
        _ = try await succeeds(alice, ["iam", "add-member", team, "--principal-arn", bob.arn])
        _ = try await succeeds(alice, ["iam", "add-member", team, "--principal-arn", pattern])
        _ = try await succeeds(alice, ["iam", "add-member", team, "--principal-arn", producers])
        for wrong in [
            "arn:aws:sts::\(moto.account):assumed-role/reviewers-\(tag)/a/b",
            "arn:aws:sts::999999999999:assumed-role/reviewers-\(tag)/*",
            "arn:aws:iam::\(moto.account):group/\(team)",
        ] {
            let refused = try await sealed(alice, ["iam", "add-member", team, "--principal-arn", wrong])
            #expect(refused.status != 0 && refused.output.contains("ValidationError"), "\(wrong): \(refused.output)")
        }
        _ = try await succeeds(alice, ["catalog", "create-domain", domain, "--owner", team])
        _ = try await succeeds(alice, ["catalog", "create-event-type", type, "--domain", domain, "--approvals", "2"])

        // The role member holds the domain's producer policy in IAM; the pattern's sessions hold none of their own.
        let producerPolicy = "arn:aws:iam::\(moto.account):policy/sealed/"
        let attached = try await Self.attachedPolicies(ofRole: "producers-\(tag)", moto, python: python)
        #expect(attached.contains { $0.hasPrefix(producerPolicy) }, "\(attached)")
        #expect(try await Self.attachedPolicies(ofRole: "reviewers-\(tag)", moto, python: python).isEmpty)

        let requested = try await succeeds(carol, ["access", "request", type, "--justification", "risk", "--duration", "1h"])
        let id = try #require(
            requested.range(of: #"ar-[0-9a-f]+"#, options: .regularExpression).map { String(requested[$0]) }
        )
        // A session of the reviewers' role outside the pattern is not a member.
        let outsider = try await sealed(other, ["access", "approve", id, "--comment", "ok"])
        #expect(outsider.status != 0 && outsider.output.contains("not a member of \(team)"), "\(outsider.output)")
        _ = try await succeeds(erin, ["access", "approve", id, "--comment", "ok"])
        let approved = try await succeeds(bob, ["access", "approve", id, "--comment", "ok"])
        #expect(approved.contains("approved"))
        // The approval is the role's: the session acts as its role in the workflow.
        let shown = try await succeeds(alice, ["access", "show", id])
        #expect(shown.contains(reviewers), "\(shown)")
        let check = try await succeeds(alice, ["aws", "check"])
        #expect(check.contains("readers of \(type): \(carol.arn)"), "\(check)")
    }
}
