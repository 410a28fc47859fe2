internal import AccessControl
internal import AuditTrail
internal import Composition
internal import Foundation
internal import KMS
internal import PlatformClient
internal import SealedEvents
internal import SigV4
internal import Storage
internal import WireShapes

/// `sealed demo --aws`: the story played against an AWS account (or an AWS-compatible endpoint such as moto) and a
/// `sealed serve --aws` governing it. The demo's own identity is the operator: an administrator of the server, and
/// allowed to create the IAM users it casts (removed at the end unless `--keep`).
///
/// Where the endpoint cannot do what AWS would (moto evaluates identity policies against the resource `*`, so it
/// refuses calls that resource-scoped policies allow), the demo says so and shows what the platform's own evaluator
/// finds in the live documents instead; it never counts such a step as shown.
struct AWSDemo {
    /// One of the cast: an IAM user made for the demo, and its access key.
    struct Person {
        let name: String
        let userName: String
        let arn: String
        let credentials: Credentials
    }

    /// The narration and the steps the embedded demo shares.
    var story: Demo
    /// KMS, IAM and STS of the account (`nil`: AWS's own endpoints).
    let awsEndpoint: URL?
    let suffix = "-" + String(UUID().uuidString.prefix(4)).lowercased()
    var serverID: String?
    var people: [Person] = []
    var iam: IAMClient?
    /// The steps this endpoint could not show, each checked with the platform's evaluator instead.
    var limits: [String] = []

    init(region: String, bus: String, awsEndpoint: URL?) {
        story = Demo(region: region, bus: bus)
        self.awsEndpoint = awsEndpoint
    }

    var region: String { story.region }
    /// The platform: the server the demo started, or `--endpoint-url`.
    var server: URL {
        get { story.endpoint }
        set { story.endpoint = newValue }
    }

    /// The account's endpoints with `credentials` (a person's), or the operator's chain (`profile`).
    func aws(_ credentials: Credentials? = nil, profile: String? = nil) throws -> AWSConfiguration {
        guard let credentials else {
            return try AWSConfiguration.resolve(profile: profile, region: region, endpoint: awsEndpoint)
        }
        return try AWSConfiguration.resolve(
            environment: [:],
            region: region,
            credentials: credentials,
            endpoint: awsEndpoint
        )
    }

    /// A platform client that proves its caller with a signed `GetCallerIdentity`, as the CLI's `--aws` does.
    func client(_ aws: AWSConfiguration) throws -> PlatformClient {
        var client = try PlatformClient(endpoint: server, region: region, credentialProvider: aws.credentialProvider)
        client.callerIdentity = CallerIdentitySigner(
            sts: try STSClient(configuration: aws),
            serverID: serverID,
            server: server
        )
        return client
    }

    func client(_ person: Person) throws -> PlatformClient { try client(try aws(person.credentials)) }

    /// Records a step the endpoint could not show and prints it plainly.
    mutating func limit(_ text: String) {
        limits.append(text)
        print("   ⚠ \(text)")
    }

    // MARK: - The story

    mutating func run(operatorProfile: String?, platformProfile: String?, endpoint external: String?) async throws {
        let operatorAWS = try aws(profile: operatorProfile)
        let me = try await STSClient(configuration: operatorAWS).getCallerIdentity()
        guard let operatorARN = me.arn, let account = me.account else {
            throw Demo.Failure(message: "STS did not say who the demo runs as")
        }
        let place = awsEndpoint?.absoluteString ?? "AWS (\(region))"
        if let external {
            guard let url = URL(string: external) else { throw Demo.Failure(message: "--endpoint-url is not a URL") }
            server = url
            print("Sealed Events demo, AWS mode: the account behind \(place), the server at \(url.absoluteString)")
        } else {
            guard let platformProfile else {
                throw Demo.Failure(message: "the demo starts sealed serve --aws as --platform-profile's identity")
            }
            // A role session (SSO, say) administers as its role.
            let administrator = CallerIdentity(arn: operatorARN).principalArn
            try await startServer(platformProfile: platformProfile, administrator: administrator)
            print(
                "Sealed Events demo, AWS mode: the account behind \(place); sealed serve --aws in this process on "
                    + "\(server.absoluteString) as the profile \(platformProfile), "
                    + "data in \(story.dataDirectory?.path ?? "?")"
            )
        }
        print("account \(account), names end in \(suffix); the demo runs as \(operatorARN) (an administrator)")
        let iam = try IAMClient(configuration: operatorAWS)
        self.iam = iam
        let admin = try client(operatorAWS)
        let domain = "payments" + suffix
        let captured = "\(domain).card.captured"
        let topic = "payments-events" + suffix
        let started = Date()

        story.say("The cast: IAM users of the account on the payments and analytics teams")
        let checkout = try await cast("checkout-service", account: account)
        let reviewer1 = try await cast("payments-reviewer-1", account: account)
        let reviewer2 = try await cast("payments-reviewer-2", account: account)
        let analytics = try await cast("analytics-service", account: account, assumesReaderRoles: true)
        for (team, members) in [("payments", [checkout, reviewer1, reviewer2]), ("analytics", [analytics])] {
            _ = try await admin.call("POST", ["iam", "teams"], body: ["TeamName": team + suffix])
            for member in members {
                _ = try await admin.send(
                    .addUserToTeam,
                    [team + suffix],
                    input: MemberInput(principalArn: member.arn),
                    as: EmptyResponse.self
                )
            }
        }
        for person in people { story.ok("\(person.name): \(person.arn)") }

        story.say("The payments domain and its KMS key")
        let created = try await admin.call(
            "POST",
            ["catalog", "domains"],
            body: ["Domain": domain, "Owner": "payments" + suffix]
        )
        let keyArn = created["KeyArn"] as? String ?? ""
        try story.expect(keyArn.hasPrefix("arn:aws:kms:\(region):\(account):key/"), "the domain has no KMS key")
        story.ok("domain \(domain): KMS key \(keyArn) (tag sealed:domain, alias alias/sealed/\(domain))")

        story.say("The \(captured) event type: restricted, card number and holder sealed, two approvals")
        let type = try await admin.call(
            "POST",
            ["catalog", "event-types"],
            body: [
                "EventType": captured, "Domain": domain, "Classification": "restricted",
                "Regulations": ["PCI-DSS"], "SensitiveFields": ["/card/number", "/card/holder"],
                "ApprovalsRequired": 2,
            ]
        )
        let readerRole = type["ReaderRoleArn"] as? String ?? ""
        try story.expect(readerRole.contains(":role/sealed/"), "the event type has no reader role under /sealed/")
        story.ok("reader role \(readerRole)")
        try await expectReaders(captured, [], admin, "nobody can decrypt \(captured) yet")

        story.say("The checkout service seals and publishes")
        let descriptor = try await story.descriptor(captured, admin)
        let original = try JSONValue(
            parsing:
                #"{"orderId":"o-1","amount":12.50,"currency":"EUR","#
                + #""card":{"number":"4111 1111 1111 1111","holder":"Ada Lovelace"}}"#
        )
        let event = try await seal(story.envelope(captured, domain, original), descriptor, by: checkout, account)
        _ = try await admin.call("POST", ["topics"], body: ["Name": topic])
        let offsets = try await story.publish(event, topic, try client(checkout))
        story.ok("offset \(offsets): \(event.metaData.eventId), card number and holder sealed under \(keyArn)")

        story.say("The analytics service reads the metadata, cannot open the event, and asks for access")
        let analyticsClient = try client(analytics)
        let events = try await story.read(topic, analyticsClient)
        try story.expect(events.count == 1, "analytics sees the event on the bus (found \(events.count))")
        story.info("metaData: \(events[0].metaData.eventType) from \(events[0].metaData.source)")
        try expectRefused(try await open(events[0], descriptor, as: analytics), analytics)
        let request = try await analyticsClient.call(
            "POST",
            ["access", "requests"],
            body: ["EventType": captured, "Justification": "fraud-rate dashboards", "DurationSeconds": 3600]
        )
        let requestID = request["RequestId"] as? String ?? ""
        story.ok("request \(requestID) is \(request["Status"] as? String ?? "?")")

        story.say("Two payments reviewers approve: the reader role's trust policy now names analytics")
        let first = try await client(reviewer1).call("POST", ["access", "requests", requestID, "approve"], body: [:])
        try story.expect(first["Status"] as? String == "pending", "one approval of two leaves the request pending")
        story.ok("payments-reviewer-1 approved; still \(first["Status"] as? String ?? "?") (two approvals needed)")
        let approved = try await client(reviewer2).call(
            "POST",
            ["access", "requests", requestID, "approve"],
            body: ["Comment": "dashboards only, one hour"]
        )
        try story.expect(approved["Status"] as? String == "approved", "the second approval approves")
        let trust = try await trustPolicy(readerRole)
        try story.expect(
            trust.contains(analytics.arn) && trust.contains("DateLessThan"),
            "the trust policy grants analytics until the grant's end: \(trust)"
        )
        story.ok(
            "approved until \(approved["ExpirationDate"] as? String ?? "?"); trust policy: analytics, DateLessThan"
        )
        try await expectReaders(captured, [analytics.arn], admin, "who can decrypt \(captured): analytics-service")

        story.say("Analytics assumes the reader role in the account's STS and opens the event")
        let sts = try STSClient(configuration: try aws(analytics.credentials))
        let session = try await Self.settling {
            try await sts.assumeRole(
                AssumeRoleRequest(roleArn: readerRole, roleSessionName: Opener.sessionName(for: "analytics"))
            )
        }
        story.ok("session \(session.assumedRoleArn ?? "?")")
        let opened = try await open(event, descriptor, as: analytics)
        if opened.isComplete {
            try story.expect(opened.data == original, "the opened data is the original")
            story.ok("opened: \(String(decoding: opened.data.serialized(), as: UTF8.self))")
        } else {
            let refusal = opened.denial?.accessDenied?.refusal ?? "?"
            try story.expect(refusal.hasPrefix("KMS"), "only KMS may refuse the granted session here: \(refusal)")
            limit(
                "the endpoint refused the session's kms:Decrypt (\(refusal)), which the reader role's policy allows "
                    + "for this key and event type: it does not evaluate resource-scoped identity policies as AWS "
                    + "does (moto checks them against the resource \"*\"). What AWS decides, by the live trust, reader "
                    + "and key policies: analytics-service can decrypt \(captured) (above), and no other type"
            )
        }

        story.say("A reviewer revokes the grant: the trust policy drops analytics")
        _ = try await client(reviewer1).call(
            "POST",
            ["access", "requests", requestID, "revoke"],
            body: ["Comment": "dashboard retired"]
        )
        let revoked = try await trustPolicy(readerRole)
        try story.expect(!revoked.contains(analytics.arn), "the trust policy no longer names analytics: \(revoked)")
        story.ok("the reader role's trust policy no longer names analytics-service")
        try await expectReaders(captured, [], admin, "nobody can decrypt \(captured) again")
        // AWS takes seconds to apply the edited trust policy: a new opener is refused once it has.
        let after = try await Self.settling(until: { !$0.isComplete }) {
            try await open(event, descriptor, as: analytics)
        }
        try expectRefused(after, analytics)

        story.say("The audit trail of all of it, verified")
        try await verifyTrail(admin, since: started)
    }

    // MARK: - Steps

    /// Creates an IAM user for the story with its access key, waiting until STS knows the key.
    mutating func cast(_ name: String, account: String, assumesReaderRoles: Bool = false) async throws -> Person {
        guard let iam else { throw Demo.Failure(message: "no IAM client") }
        let userName = "sealed-demo\(suffix)-\(name)"
        let arn = try await iam.createUser(name: userName, tags: ["sealed:demo": suffix])
        // A consumer needs sts:AssumeRole on the reader roles; the trust policies decide which it gets.
        let assume =
            assumesReaderRoles
            ? #",{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::\#(account):role/sealed/*"}"#
            : ""
        try await iam.putUserPolicy(
            userName: userName,
            policyName: "sealed-demo",
            document:
                #"{"Version":"2012-10-17","Statement":["#
                + #"{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}\#(assume)]}"#
        )
        let credentials = try await iam.createAccessKey(userName: userName)
        let person = Person(name: name, userName: userName, arn: arn, credentials: credentials)
        people.append(person)
        // A new access key takes a few seconds to reach STS on AWS.
        let sts = try STSClient(configuration: try aws(credentials))
        _ = try await Self.settling { try await sts.getCallerIdentity() }
        return person
    }

    /// `attempt`'s answer once it succeeds and is `done`, tried each second for 30 seconds (IAM changes, a new key
    /// or a trust policy edit, take seconds to reach STS on AWS); then the last answer, or its error.
    static func settling<T>(
        until done: (T) -> Bool = { _ in true },
        _ attempt: () async throws -> T
    ) async throws -> T {
        for _ in 1..<30 {
            if let answer = try? await attempt(), done(answer) { return answer }
            try await Task.sleep(for: .seconds(1))
        }
        return try await attempt()
    }

    /// Seals as `producer`. When the endpoint refuses the `kms:GenerateDataKey` the producer policy the platform
    /// attached allows (by the platform's evaluator), says so and goes on with a stand-in policy.
    mutating func seal(
        _ envelope: Envelope,
        _ descriptor: EventTypeDescriptor,
        by producer: Person,
        _ account: String
    ) async throws -> Envelope {
        let sealer = try Sealer(kms: try KMSClient(configuration: try aws(producer.credentials)))
        let refused: SealedEventsError
        do {
            return try await sealer.seal(envelope, as: descriptor)
        } catch {
            guard error.code == .accessDenied else { throw error }
            refused = error
        }
        let (policy, allowed, other) = try await producerDecision(producer, descriptor, account)
        try story.expect(allowed && !other, "the endpoint refused \(producer.name) and so does \(policy): \(refused)")
        limit(
            "the endpoint refused \(producer.name)'s kms:GenerateDataKey, which the producer policy the platform "
                + "attached (\(policy)) allows: by the platform's evaluator it allows eventType "
                + "\(descriptor.name) on \(descriptor.keyArn) and refuses other types. This endpoint does not "
                + "evaluate resource-scoped identity policies as AWS does (moto checks them against the resource "
                + "\"*\"), so the demo gives \(producer.name) a stand-in policy, kms:GenerateDataKey on \"*\" "
                + "(sealed-demo-stand-in), to go on; on AWS no stand-in is needed"
        )
        try await iam?.putUserPolicy(
            userName: producer.userName,
            policyName: "sealed-demo-stand-in",
            document:
                #"{"Version":"2012-10-17","Statement":["#
                + #"{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*"}]}"#
        )
        return try await sealer.seal(envelope, as: descriptor)
    }

    /// The producer policy attached to `producer`, evaluated with the platform's evaluator for the descriptor's type
    /// and for another type (the key policy delegates to IAM: the drift check compares it with the platform's).
    func producerDecision(
        _ producer: Person,
        _ descriptor: EventTypeDescriptor,
        _ account: String
    ) async throws -> (policy: String, allowed: Bool, other: Bool) {
        guard let iam else { throw Demo.Failure(message: "no IAM client") }
        let attached = try await iam.attachedPolicies(of: .user(producer.userName))
        let producerPolicy = try require(
            attached.first { $0.policyName.hasPrefix("sealed-producer-") },
            "the platform attached no producer policy to \(producer.name)"
        )
        let managed = try await iam.getPolicy(arn: producerPolicy.policyArn)
        let version = try await iam.getPolicyVersion(arn: managed.arn, versionId: managed.defaultVersionId)
        let document = try PolicyDocument(parsing: try require(version.document, "the producer policy is empty"))
        func allows(_ eventType: String) -> Bool {
            PolicyEvaluator.evaluate(
                EvaluationRequest(
                    principal: CallerIdentity(arn: producer.arn, account: account),
                    action: "kms:GenerateDataKey",
                    resource: descriptor.keyArn,
                    context: RequestContext(encryptionContext: ["eventType": eventType])
                ),
                identityPolicies: [document]
            ).isAllowed
        }
        return (producerPolicy.policyName, allows(descriptor.name), allows(descriptor.name + ".other"))
    }

    /// Opens `event` as `person` the way `consume --open` does: a fresh opener assuming the reader role.
    func open(_ event: Envelope, _ descriptor: EventTypeDescriptor, as person: Person) async throws -> OpenedEvent {
        let opener = try Opener.assumingReaderRole(
            of: descriptor,
            aws: try aws(person.credentials),
            consumer: person.name
        )
        return try await opener.open(event, as: descriptor, redacting: true)
    }

    /// A consumer without a grant refused: by STS, whose trust policy does not name it, as on AWS; or, where the
    /// endpoint let it assume the role anyway, by KMS, which is then named as a step the endpoint could not show.
    mutating func expectRefused(_ view: OpenedEvent, _ person: Person) throws {
        try story.expect(!view.isComplete, "\(person.name) must not open the event without a grant")
        let refusal = view.denial?.accessDenied?.refusal ?? "?"
        guard refusal.hasPrefix("STS") else {
            return limit(
                "refused, but by KMS (\(refusal)): the endpoint let \(person.name) assume the reader role although "
                    + "the trust policy does not name it (moto does not apply its Deny statement), and its KMS refuses "
                    + "even a granted session; by the live trust policy (above) nobody can decrypt"
            )
        }
        story.ok("refused by STS: the reader role's trust policy does not name \(person.name) (\(refusal))")
    }

    /// The reader role's trust policy, read from IAM.
    func trustPolicy(_ roleARN: String) async throws -> String {
        let name = String(roleARN.split(separator: "/").last ?? "")
        return try await iam?.getRole(name: name).assumeRolePolicyDocument ?? ""
    }

    /// `sealed aws check`: no drift, and `readers` are who can decrypt `eventType` by the live documents.
    func expectReaders(_ eventType: String, _ readers: [String], _ admin: PlatformClient, _ text: String) async throws {
        let report = try await admin.send(.checkAWSAccount, as: AWSDriftReport.self).output
        try story.expect(report.differences.isEmpty, "the account drifted: \(report.differences)")
        try story.expect(
            report.readers[eventType] == readers,
            "by the live documents \(eventType)'s readers are \(report.readers[eventType] ?? []), not \(readers)"
        )
        story.ok("sealed aws check: no drift; by the live documents (the platform's evaluator) \(text)")
    }

    /// The platform's records since `since`, and the export verified with the public key alone.
    mutating func verifyTrail(_ admin: PlatformClient, since: Date) async throws {
        let trail = try await admin.send(
            .lookupEvents,
            query: [("since", since.addingTimeInterval(-1).formatted(.iso8601)), ("limit", "1000")],
            as: AuditCommand.RecordPage.self
        )
        // Every change has two records: its intent, written before it acts, and its outcome. Outcomes are counted.
        var counts: [String: Int] = [:]
        let intents = trail.output.records.filter { $0.additionalEventData?.auditPhase == "Intent" }.count
        for record in trail.output.records where record.additionalEventData?.auditPhase != "Intent" {
            counts[cell(record.eventName), default: 0] += 1
        }
        for name in [
            "CreateDomain", "CreateEventType", "PublishEvents", "CreateAccessRequest", "ApproveAccessRequest",
            "RevokeAccessRequest",
        ] {
            try story.expect(counts[name, default: 0] > 0, "the trail has \(name) records")
        }
        story.ok(
            "\(trail.output.records.count) records, \(intents) of them intents written before a change: "
                + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        )
        story.info("(key use, AssumeRole and Decrypt, is AWS's to record: serve --aws --cloudtrail-bucket ingests it)")
        let export = try await admin.raw("GET", ["audit", "export"])
        let publicKey = try AuditSigningKey.publicKey(
            pem: String(decoding: try await admin.raw("GET", ["audit", "public-key"]), as: UTF8.self)
        )
        let report = try Export.verify(export, publicKey: publicKey)
        try story.expect(report.isValid, "the export verifies: \(report)")
        story.ok("export verified with the public key alone: \(report)")
        if let dataDirectory = story.dataDirectory {
            await story.stopServer()
            let live = try LogAuditStore.verify(
                directory: dataDirectory.appendingPathComponent(DataDirectory.auditLogDirectoryName),
                publicKey: publicKey
            )
            try story.expect(live.isValid && live.unsignedRecords == 0, "the live store verifies: \(live)")
            story.ok("server stopped; live store verified, every record under a signed digest: \(live)")
        }
    }

    // MARK: - The server and the clean-up

    /// Starts `sealed serve --aws` in this process as `platformProfile`'s identity, `administrator` its administrator.
    mutating func startServer(platformProfile: String, administrator: String) async throws {
        serverID = "sealed-demo" + suffix
        _ = try await story.serve(
            aws: .init(
                region: region,
                endpoint: awsEndpoint,
                profile: platformProfile,
                administrators: [administrator],
                serverID: serverID
            )
        )
    }

    /// Stops the server; unless `keep`, removes the data directory and the cast's IAM users (their keys, inline
    /// policies and the producer policy's attachment). The key, reader role and producer policy are the platform's:
    /// they stay.
    mutating func finish(keep: Bool) async {
        await story.finish(keep: keep)
        guard !keep, let iam, !people.isEmpty else { return }
        var removed = 0
        for person in people {
            do {
                for policy in try await iam.attachedPolicies(of: .user(person.userName)) {
                    try await iam.detachPolicy(policy.policyArn, from: .user(person.userName))
                }
                for policy in try await iam.listUserPolicies(userName: person.userName) {
                    try await iam.deleteUserPolicy(userName: person.userName, policyName: policy)
                }
                for key in try await iam.listAccessKeys(userName: person.userName) {
                    try await iam.deleteAccessKey(userName: person.userName, accessKeyId: key)
                }
                try await iam.deleteUser(name: person.userName)
                removed += 1
            } catch {
                print("   could not remove \(person.userName): \(error)")
            }
        }
        print("\nremoved the demo's \(removed) IAM users; the domain key, reader role and producer policy stay")
    }
}
