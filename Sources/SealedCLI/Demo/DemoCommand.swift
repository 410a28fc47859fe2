internal import ArgumentParser
internal import AuditTrail
internal import Composition
internal import Foundation
internal import KMS
internal import Logging
internal import PlatformClient
internal import SealedEvents
internal import Server
internal import SigV4
internal import Storage

/// `sealed demo`: the whole pattern, played and checked step by step.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Play the whole pattern against a fresh server, narrating and checking each step.",
        discussion: """
            Starts the server `sealed serve` runs, in process, on a free loopback port with a temporary data \
            directory (or uses --endpoint-url with administrator credentials from the environment or --profile), \
            then: the payments team's domain and key; the restricted, PCI-DSS payments.card.captured event type with sensitive \
            fields; the checkout service publishing sealed events; the analytics service reading the metadata but \
            failing to open and told how to ask; its access request and the payments reviewer's approval; \
            analytics opening the events; the fraud service still refused; analytics refused for another event \
            type; an unsealed publish of the restricted type refused; and the audit trail of all of it, verified. \
            Exits 0 only if every step behaved as told. With --aws the story runs against an AWS account (or \
            --aws-endpoint-url, e.g. moto) and a sealed serve --aws: see docs/aws/README.md.
            """
    )

    @Option(name: .customLong("endpoint-url"), help: "Use this server instead of starting one (names get a suffix).")
    var endpointURL: String?
    @Option(name: .customLong("profile"), help: "With --endpoint-url or --aws: the administrator's profile.")
    var profile: String?
    @Option(name: .customLong("region"), help: "The region (default us-east-1).")
    var region = "us-east-1"
    @Flag(name: .customLong("keep"), help: "Keep the temporary data directory (its path is printed).")
    var keep = false
    @Option(
        name: .customLong("bus"),
        help: "The event bus of the server the demo starts: embedded (default) or nats://HOST:PORT[,…] (JetStream)."
    )
    var bus = "embedded"
    @Flag(
        name: .customLong("aws"),
        help: """
            Play the story against an AWS account and a sealed serve --aws governing it (docs/aws/README.md): the \
            demo runs as an administrator of that server that may create IAM users (the standard chain or --profile).
            """
    )
    var aws = false
    @Option(name: .customLong("aws-endpoint-url"), help: "With --aws: KMS, IAM and STS at this endpoint (e.g. moto).")
    var awsEndpointURL: String?
    @Option(name: .customLong("aws-region"), help: "With --aws: the account's region (default --region's).")
    var awsRegion: String?
    @Option(
        name: .customLong("platform-profile"),
        help: "With --aws and no --endpoint-url: the profile the sealed serve --aws the demo starts runs as."
    )
    var platformProfile: String?

    func validate() throws {
        if endpointURL != nil, bus != "embedded" {
            throw ValidationError("--bus applies to the server the demo starts, not to --endpoint-url")
        }
        guard aws else {
            if awsEndpointURL != nil || awsRegion != nil || platformProfile != nil {
                throw ValidationError("--aws-endpoint-url, --aws-region and --platform-profile need --aws")
            }
            return
        }
        if let awsEndpointURL, URL(string: awsEndpointURL)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--aws-endpoint-url must be an http(s) URL")
        }
        if endpointURL == nil, platformProfile == nil {
            throw ValidationError(
                "--aws starts sealed serve --aws as the platform's identity: name its profile with --platform-profile "
                    + "(or point the demo at a running server with --endpoint-url)"
            )
        }
    }

    func run() async throws {
        if aws { return try await runAWS() }
        var demo = Demo(region: region, bus: bus)
        do {
            try await demo.run(endpoint: endpointURL, profile: profile, keep: keep)
        } catch let failure as Demo.Failure {
            print("\n✗ \(failure.message)")
            await demo.finish(keep: keep)
            throw ExitCode.failure
        } catch {
            print("\n✗ the demo stopped: \(error)")
            await demo.finish(keep: keep)
            throw ExitCode.failure
        }
        await demo.finish(keep: keep)
        print("\n✓ every step behaved as told.")
    }

    /// `--aws`: the story against an AWS account; steps the endpoint cannot show are named at the end.
    func runAWS() async throws {
        var demo = AWSDemo(
            region: awsRegion ?? region,
            bus: bus,
            awsEndpoint: awsEndpointURL.flatMap(URL.init(string:))
        )
        do {
            try await demo.run(operatorProfile: profile, platformProfile: platformProfile, endpoint: endpointURL)
        } catch {
            print("\n✗ \((error as? Demo.Failure)?.message ?? "the demo stopped: \(error)")")
            await demo.finish(keep: keep)
            throw ExitCode.failure
        }
        await demo.finish(keep: keep)
        guard !demo.limits.isEmpty else { return print("\n✓ every step behaved as told.") }
        print(
            "\n✓ every step behaved as told; \(demo.limits.count) this endpoint could not perform as AWS would, "
                + "each checked instead by the platform's evaluator on the live documents (⚠ above)."
        )
    }
}

/// The demo's state: the server it started, the people, their clients.
struct Demo {
    struct Failure: Error { let message: String }

    struct Person {
        let name: String
        let arn: String
        let credentials: Credentials
    }

    let region: String
    let bus: String
    /// The platform and server the demo started (none with `--endpoint-url`).
    var served: (platform: SealedPlatform, server: BackgroundServer)?
    var dataDirectory: URL?
    var endpoint = URL(string: "http://127.0.0.1:8080")!
    var step = 0

    init(region: String, bus: String) {
        self.region = region
        self.bus = bus
    }

    mutating func say(_ title: String) {
        step += 1
        print("\n\(step). \(title)")
    }

    func ok(_ text: String) { print("   ✓ \(text)") }
    func info(_ text: String) { print("   \(text)") }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        guard condition else { throw Failure(message: message()) }
    }

    func client(_ credentials: Credentials) throws -> PlatformClient {
        try PlatformClient(
            endpoint: endpoint,
            region: region,
            credentialProvider: StaticCredentialProvider(credentials)
        )
    }

    func aws(_ credentials: Credentials) throws -> AWSConfiguration {
        try AWSConfiguration.resolve(environment: [:], region: region, credentials: credentials, endpoint: endpoint)
    }

    // MARK: - The story

    mutating func run(endpoint external: String?, profile: String?, keep: Bool) async throws {
        let admin: Credentials
        let suffix: String
        if let external {
            guard let url = URL(string: external) else { throw Failure(message: "--endpoint-url is not a URL") }
            endpoint = url
            admin = try await AWSConfiguration.resolve(profile: profile, region: region, endpoint: url)
                .credentialProvider
                .credentials()
            suffix = "-" + String(UUID().uuidString.prefix(4)).lowercased()
            print("Sealed Events demo against \(url.absoluteString) (names end in \(suffix))")
        } else {
            admin = try await startServer()
            suffix = ""
            print(
                "Sealed Events demo: a fresh server in this process on \(endpoint.absoluteString) (bus \(bus)), data in "
                    + (dataDirectory?.path ?? "?")
            )
        }
        let platform = try client(admin)
        let domain = "payments" + suffix
        let captured = "\(domain).card.captured"
        let refunded = "\(domain).card.refunded"
        let topic = "payments-events" + suffix
        let started = Date()

        say("The payments team owns the payments domain and its KMS key")
        for team in ["payments", "analytics", "fraud"] {
            _ = try await platform.call("POST", ["iam", "teams"], body: ["TeamName": team + suffix])
        }
        func user(_ name: String, _ team: String) async throws -> Person {
            let answer = try await platform.call(
                "POST",
                ["iam", "users"],
                body: ["UserName": name + suffix, "Team": team + suffix]
            )
            return Person(
                name: name,
                arn: answer["Arn"] as? String ?? "",
                credentials: Credentials(
                    accessKeyId: answer["AccessKeyId"] as? String ?? "",
                    secretAccessKey: answer["SecretAccessKey"] as? String ?? ""
                )
            )
        }
        let checkout = try await user("checkout-service", "payments")
        let reviewer = try await user("payments-reviewer", "payments")
        let analytics = try await user("analytics-service", "analytics")
        let fraud = try await user("fraud-service", "fraud")
        let created = try await platform.call(
            "POST",
            ["catalog", "domains"],
            body: ["Domain": domain, "Owner": "payments" + suffix]
        )
        let keyArn = created["KeyArn"] as? String ?? ""
        try expect(keyArn.hasPrefix("arn:aws:kms:"), "the domain has no key")
        ok(
            "teams payments, analytics, fraud; users checkout-service, payments-reviewer, analytics-service, fraud-service"
        )
        ok("domain \(domain), key \(keyArn)")

        say("The payments.card.captured event type: restricted, PCI-DSS, card number and holder sealed")
        let capturedType = try await platform.call(
            "POST",
            ["catalog", "event-types"],
            body: [
                "EventType": captured, "Domain": domain, "Classification": "restricted",
                "Regulations": ["PCI-DSS", "GDPR"], "SensitiveFields": ["/card/number", "/card/holder"],
                "AlgorithmSuite": "0x0578",
            ]
        )
        _ = try await platform.call(
            "POST",
            ["catalog", "event-types"],
            body: ["EventType": refunded, "Domain": domain, "Classification": "confidential"]
        )
        ok(
            "\(captured): reader role \(capturedType["ReaderRoleArn"] as? String ?? "?"), which may decrypt this type only"
        )
        ok("\(refunded): confidential, whole data sealed")
        _ = try await platform.call("POST", ["topics"], body: ["Name": topic])
        ok("topic \(topic)")

        say("The checkout service publishes sealed events")
        let capturedDescriptor = try await descriptor(captured, platform)
        let refundedDescriptor = try await descriptor(refunded, platform)
        let sealer = try Sealer(kms: try KMSClient(configuration: try aws(checkout.credentials)))
        let producer = try client(checkout.credentials)
        var originals: [String: JSONValue] = [:]
        for (index, amount) in ["12.50", "99.00", "7.25"].enumerated() {
            let data = try JSONValue(
                parsing:
                    #"{"orderId":"o-\#(index + 1)","amount":\#(amount),"currency":"EUR","card":{"number":"4111 1111 1111 111\#(index)","holder":"Ada Lovelace","expiry":"12/29"}}"#
            )
            let event = try await sealer.seal(envelope(captured, domain, data), as: capturedDescriptor)
            originals[event.metaData.eventId] = data
            let offsets = try await publish(event, topic, producer)
            ok("offset \(offsets): \(captured) \(event.metaData.eventId), card number and holder sealed")
        }
        let refund = try await sealer.seal(
            envelope(refunded, domain, try JSONValue(parsing: #"{"orderId":"o-2","amount":99.00}"#)),
            as: refundedDescriptor
        )
        ok("offset \(try await publish(refund, topic, producer)): \(refunded), whole data sealed")
        try expect(originals.count == 3, "three events published")

        say("The analytics service reads the metadata, but cannot open the events — and is told how to ask")
        let events = try await read(topic, try client(analytics.credentials))
        try expect(events.count == 4, "analytics sees all four events on the bus (found \(events.count))")
        let first = try require(events.first)
        info(
            "metaData: \(first.metaData.eventType) from \(first.metaData.source), \(first.metaData.classification?.rawValue ?? "?")"
        )
        let denied = try Opener.assumingReaderRole(
            of: capturedDescriptor,
            aws: try aws(analytics.credentials),
            consumer: "analytics"
        )
        let redacted = try await denied.open(first, as: capturedDescriptor, redacting: true)
        try expect(
            !redacted.isComplete && redacted.denial?.accessDenied != nil,
            "analytics must not open the event yet"
        )
        info("readable: \(String(decoding: redacted.data.serialized(), as: UTF8.self))")
        ok("refused: \(redacted.denial?.accessDenied?.description ?? "")")

        say("Analytics asks for access; a payments reviewer approves")
        let analyticsClient = try client(analytics.credentials)
        let request = try await analyticsClient.call(
            "POST",
            ["access", "requests"],
            body: ["EventType": captured, "Justification": "fraud-rate dashboards", "DurationSeconds": 7 * 86_400]
        )
        let requestID = request["RequestId"] as? String ?? ""
        ok("request \(requestID) is \(request["Status"] as? String ?? "?")")
        do {
            _ = try await analyticsClient.call("POST", ["access", "requests", requestID, "approve"], body: [:])
            throw Failure(message: "analytics approved its own request")
        } catch let error as PlatformError {
            ok("analytics cannot approve its own request (\(error.code))")
        }
        let approved = try await client(reviewer.credentials).call(
            "POST",
            ["access", "requests", requestID, "approve"],
            body: ["Comment": "dashboards only, 7 days"]
        )
        try expect(approved["Status"] as? String == "approved", "the reviewer's approval")
        ok("approved by payments-reviewer until \(approved["ExpirationDate"] as? String ?? "?")")

        say("Analytics opens the events")
        let opener = try Opener.assumingReaderRole(
            of: capturedDescriptor,
            aws: try aws(analytics.credentials),
            consumer: "analytics"
        )
        for event in events where event.metaData.eventType == captured {
            let opened = try await opener.open(event, as: capturedDescriptor)
            try expect(opened.data == originals[event.metaData.eventId], "the opened data is the original")
            ok("\(event.metaData.eventId): \(String(decoding: opened.data.serialized(), as: UTF8.self))")
        }

        say("The fraud service is still refused")
        let fraudOpener = try Opener.assumingReaderRole(
            of: capturedDescriptor,
            aws: try aws(fraud.credentials),
            consumer: "fraud"
        )
        let fraudView = try await fraudOpener.open(first, as: capturedDescriptor, redacting: true)
        try expect(fraudView.denial?.accessDenied != nil, "fraud must not open the event")
        ok("refused: \(fraudView.denial?.accessDenied?.refusal ?? "")")

        say("Analytics is refused for another event type of the same domain")
        let refundEvent = try require(events.first { $0.metaData.eventType == refunded })
        let other = try Opener.assumingReaderRole(
            of: refundedDescriptor,
            aws: try aws(analytics.credentials),
            consumer: "analytics"
        )
        let otherView = try await other.open(refundEvent, as: refundedDescriptor, redacting: true)
        try expect(otherView.denial?.accessDenied != nil, "analytics must not open \(refunded)")
        ok("its reader role for \(refunded) is refused: \(otherView.denial?.accessDenied?.refusal ?? "")")
        let sameKey = try await opener.open(refundEvent, as: refundedDescriptor, redacting: true)
        try expect(sameKey.denial?.accessDenied != nil, "the captured reader role must not decrypt \(refunded)")
        ok("its session for \(captured), same key, other event type: \(sameKey.denial?.accessDenied?.refusal ?? "")")

        say("An unsealed publish of the restricted type is refused")
        let plain = envelope(
            captured,
            domain,
            try JSONValue(parsing: #"{"card":{"number":"4111 1111 1111 1111"}}"#)
        )
        do {
            _ = try await publish(plain, topic, producer)
            throw Failure(message: "the bus took an unsealed restricted event")
        } catch let error as PlatformError {
            try expect(error.code == "EventNotSealed", "refused as EventNotSealed, not \(error.code)")
            ok("refused: \(error.code): \(error.message.prefix(100))…")
        }
        let after = try await read(topic, analyticsClient)
        try expect(after.count == 4, "the refused event was not stored")

        say("The audit trail of all of it, verified")
        let trail = try await platform.send(
            .lookupEvents,
            query: [("since", started.addingTimeInterval(-1).formatted(.iso8601)), ("limit", "1000")],
            as: AuditCommand.RecordPage.self
        )
        let records = trail.output.records
        // Every change has two records: its intent, written before it acts, and its outcome. Outcomes are counted.
        var counts: [String: Int] = [:]
        let intents = records.filter { $0.additionalEventData?.auditPhase == "Intent" }.count
        for record in records where record.additionalEventData?.auditPhase != "Intent" {
            counts[cell(record.eventName), default: 0] += 1
        }
        for name in [
            "CreateDomain", "CreateEventType", "GenerateDataKey", "PublishEvents", "AssumeRole", "Decrypt",
            "CreateAccessRequest", "ApproveAccessRequest",
        ] {
            try expect(counts[name, default: 0] > 0, "the trail has \(name) records")
        }
        let refusedDecrypts = records.filter {
            $0.errorCode == "AccessDenied" || $0.errorCode == "AccessDeniedException"
        }
        let refusedPublish = records.filter {
            $0.eventName == "PublishEvents" && $0.errorCode == "EventNotSealed"
        }
        try expect(
            !refusedDecrypts.isEmpty && refusedPublish.count == 1,
            "denials and the refused publish are in the trail"
        )
        ok(
            "\(records.count) records, \(intents) of them intents written before a change: "
                + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        )
        ok("\(refusedDecrypts.count) refusals, 1 refused publish (EventNotSealed)")
        let export = try await platform.raw("GET", ["audit", "export"])
        let pem = String(decoding: try await platform.raw("GET", ["audit", "public-key"]), as: UTF8.self)
        if let dataDirectory {
            let local = try String(
                contentsOf: dataDirectory.appendingPathComponent("audit-public-key.pem"),
                encoding: .utf8
            )
            try expect(local == pem, "the server's public key is the one in its data directory")
        }
        let publicKey = try AuditSigningKey.publicKey(pem: pem)
        let report = try Export.verify(export, publicKey: publicKey)
        try expect(report.isValid, "the export verifies: \(report)")
        ok("export verified with the public key alone: \(report)")
        if let dataDirectory {
            // A graceful stop signs a last digest over the chain head; the live store then verifies in full.
            await stopServer()
            let live = try LogAuditStore.verify(
                directory: dataDirectory.appendingPathComponent(DataDirectory.auditLogDirectoryName),
                publicKey: publicKey
            )
            try expect(
                live.isValid && live.unsignedRecords == 0,
                "the live store verifies, all records signed: \(live)"
            )
            ok("server stopped; live store verified, every record under a signed digest: \(live)")
        }
    }

    func descriptor(_ name: String, _ platform: PlatformClient) async throws -> EventTypeDescriptor {
        try eventTypeDescriptor(
            try await platform.send(.getEventType, [name], as: EventTypeOutput.self).output
        )
    }

    func envelope(_ type: String, _ domain: String, _ data: JSONValue) -> Envelope {
        Envelope(
            metaData: MetaData(
                eventId: Sealer.makeEventId(),
                eventType: type,
                domain: domain,
                source: "checkout-service",
                time: Date().formatted(.iso8601),
                classification: nil
            ),
            data: data
        )
    }

    func publish(_ event: Envelope, _ topic: String, _ client: PlatformClient) async throws -> String {
        let answer = try await client.call("POST", ["topics", topic, "events"], json: event.serialized())
        return (answer["Offsets"] as? [Any])?.map { "\($0)" }.joined(separator: ",") ?? "?"
    }

    func read(_ topic: String, _ client: PlatformClient) async throws -> [Envelope] {
        let answer = try await client.raw(
            "GET",
            ["topics", topic, "events"],
            query: [("from", "1"), ("limit", "100")]
        )
        return try storedEvents(answer).events.map(\.envelope)
    }

    // MARK: - The server

    /// Starts `sealed serve` (this executable) on a free loopback port with a temporary data directory; its
    /// administrator's credentials.
    mutating func startServer() async throws -> Credentials {
        let directory = try await serve()
        let files = ProfileFile.load(environment: [
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("admin.credentials").path,
            "AWS_CONFIG_FILE": "/nonexistent",
        ])
        guard let profile = files[profile: "sealed-admin"], let id = profile["aws_access_key_id"],
            let secret = profile["aws_secret_access_key"]
        else { throw Failure(message: "no administrator credentials in \(directory.path)") }
        return Credentials(accessKeyId: id, secretAccessKey: secret)
    }

    /// Starts the server `sealed serve` runs (with `aws`, `sealed serve --aws`) in this process on a free loopback
    /// port, its data in a new temporary directory; that directory.
    mutating func serve(aws: PlatformConfiguration.AWSAccess? = nil) async throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sealed-demo-\(UUID().uuidString.prefix(8))"
        )
        dataDirectory = directory
        var logger = Logger(label: "sealed")
        logger.logLevel = .error
        let configuration = PlatformConfiguration(
            storage: .sqlite(dataDirectory: directory),
            bus: bus == "embedded" ? .embedded : .nats(servers: bus, replicas: 1),
            region: region,
            aws: aws
        )
        let metrics = RequestMetrics()
        let platform = try await SealedPlatform.build(configuration, observer: metrics, logger: logger)
        do {
            let server = SealedServer(platform, configuration: .init(port: 0), metrics: metrics, logger: logger)
            served = (platform, try await BackgroundServer.start(server, after: platform.services, logger: logger))
        } catch {
            platform.close()
            throw error
        }
        endpoint = URL(string: "http://127.0.0.1:\(served?.server.port ?? 0)")!
        return directory
    }

    /// Stops the server the demo started and, unless `keep`, removes its data directory.
    mutating func finish(keep: Bool) async {
        await stopServer()
        if !keep, let dataDirectory { try? FileManager.default.removeItem(at: dataDirectory) }
    }

    /// Stops the server the demo started, if it runs: requests in flight finish, a last audit digest is signed.
    mutating func stopServer() async {
        guard let served else { return }
        self.served = nil
        try? await served.server.stop()
        served.platform.close()
    }
}

/// `#require` for the demo: a missing value is a failed step.
func require<T>(_ value: T?, _ message: String = "a value the demo expected is missing") throws -> T {
    guard let value else { throw Demo.Failure(message: message) }
    return value
}
