import AccessControl
import Benchmark
import Foundation

/// Policy evaluation as `sealed serve` does it for every KMS call: the key's key policy (AWS's default, delegating to
/// the account's identity policies) together with the caller's identity policies, already parsed (the server caches
/// parsed policies). The policies are the ones the platform writes: the administrator's `*` policy, a team's producer
/// policy for a domain of 20 event types, an event type's reader-role policy, and a reader role's trust policy after
/// 50 approvals.
let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )
    let account = "000000000000"
    let keyARN = "arn:aws:kms:us-east-1:\(account):key/6f1c0a4e-1111-4222-8333-944445555666"
    // KeyService.Configuration.defaultKeyPolicy, the key policy of every domain key.
    let keyPolicy = try! PolicyDocument(
        parsing: """
            {"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions",\
            "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\(account):root"},"Action":"kms:*",\
            "Resource":"*"}]}
            """,
        kind: .resource
    )
    // IdentityService.administratorPolicy.
    let administrator = try! PolicyDocument(
        parsing: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
    )
    // EventCatalog.readerPolicy(keyARN:eventType:).
    let reader = try! PolicyDocument(
        parsing: """
            {"Statement":[{"Action":"kms:Decrypt","Condition":{"StringEquals":{"kms:EncryptionContext:eventType":\
            "payments.card.captured"}},"Effect":"Allow","Resource":"\(keyARN)","Sid":"DecryptThisEventTypeOnly"}],\
            "Version":"2012-10-17"}
            """
    )
    // EventCatalog.refreshProducerPolicy(of:) for a domain with 20 event types.
    let eventTypes = (0..<19).map { "\"payments.type-\($0)\"" } + ["\"payments.card.captured\""]
    let producerText = producerSource(eventTypes: eventTypes, keyARN: keyARN)
    let producer = try! PolicyDocument(parsing: producerText)
    // TrustGrants.document after 50 approvals, every other one with an expiry; the caller's grant is the last.
    let grants = (0..<50).map { index in
        let expiry =
            index.isMultiple(of: 2) ? #","Condition":{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"# : ""
        return
            #"{"Action":"sts:AssumeRole"\#(expiry),"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\#(account):user/consumer-\#(String(format: "%02d", index))"}}"#
    }
    let trust = try! PolicyDocument(
        parsing: #"{"Statement":[\#(grants.joined(separator: ","))],"Version":"2012-10-17"}"#,
        kind: .trust
    )

    let time = Date(timeIntervalSince1970: 1_795_000_000)
    let context = ["eventType": "payments.card.captured", "domain": "payments"]
    let session = CallerIdentity(arn: "arn:aws:sts::\(account):assumed-role/reader-payments.card.captured/checkout")
    func request(_ principal: CallerIdentity, _ action: String, _ context: [String: String]) -> EvaluationRequest {
        EvaluationRequest(
            principal: principal,
            action: action,
            resource: keyARN,
            context: RequestContext(encryptionContext: context, sourceIP: "127.0.0.1", currentTime: time)
        )
    }
    let readerDecrypt = request(session, "kms:Decrypt", context)
    let readerOtherType = request(
        session,
        "kms:Decrypt",
        ["eventType": "payments.refund.issued", "domain": "payments"]
    )
    let producerGenerate = request(
        CallerIdentity(arn: "arn:aws:iam::\(account):user/checkout-service"),
        "kms:GenerateDataKey",
        context
    )
    let administratorDecrypt = request(
        CallerIdentity(arn: "arn:aws:iam::\(account):user/admin"),
        "kms:Decrypt",
        context
    )
    let consumer = CallerIdentity(arn: "arn:aws:iam::\(account):user/consumer-49")
    let roleARN = "arn:aws:iam::\(account):role/reader-payments.card.captured"

    // The cases must decide as the server does, or the figures measure something else.
    precondition(
        PolicyEvaluator.evaluate(readerDecrypt, resourcePolicy: keyPolicy, identityPolicies: [reader]).isAllowed
    )
    precondition(
        !PolicyEvaluator.evaluate(readerOtherType, resourcePolicy: keyPolicy, identityPolicies: [reader]).isAllowed
    )
    precondition(
        PolicyEvaluator.evaluate(producerGenerate, resourcePolicy: keyPolicy, identityPolicies: [producer]).isAllowed
    )
    precondition(
        PolicyEvaluator.evaluate(administratorDecrypt, resourcePolicy: keyPolicy, identityPolicies: [administrator])
            .isAllowed
    )
    precondition(
        PolicyEvaluator.evaluateAssumeRole(
            caller: consumer,
            roleArn: roleARN,
            trustPolicy: trust,
            identityPolicies: [],
            context: RequestContext(currentTime: time)
        ).isAllowed
    )

    Benchmark("policy kms:Decrypt reader-role session (allow)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PolicyEvaluator.evaluate(readerDecrypt, resourcePolicy: keyPolicy, identityPolicies: [reader]))
        }
    }
    Benchmark("policy kms:Decrypt reader-role session, other event type (deny)", configuration: configuration) {
        benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PolicyEvaluator.evaluate(readerOtherType, resourcePolicy: keyPolicy, identityPolicies: [reader]))
        }
    }
    Benchmark("policy kms:GenerateDataKey team producer (allow)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                PolicyEvaluator.evaluate(producerGenerate, resourcePolicy: keyPolicy, identityPolicies: [producer])
            )
        }
    }
    Benchmark("policy kms:Decrypt administrator * (allow)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                PolicyEvaluator.evaluate(
                    administratorDecrypt,
                    resourcePolicy: keyPolicy,
                    identityPolicies: [administrator]
                )
            )
        }
    }
    Benchmark("policy sts:AssumeRole trust policy of 50 grants (allow)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                PolicyEvaluator.evaluateAssumeRole(
                    caller: consumer,
                    roleArn: roleARN,
                    trustPolicy: trust,
                    identityPolicies: [],
                    context: RequestContext(currentTime: time)
                )
            )
        }
    }
    Benchmark("policy parse team producer policy (uncached)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? PolicyDocument(parsing: producerText))
        }
    }
}

/// The text of `EventCatalog.refreshProducerPolicy(of:)` for the given event types (JSON strings).
func producerSource(eventTypes: [String], keyARN: String) -> String {
    """
    {"Statement":[{"Action":["kms:Encrypt","kms:GenerateDataKey","kms:GenerateDataKeyWithoutPlaintext"],\
    "Condition":{"StringEquals":{"kms:EncryptionContext:domain":"payments","kms:EncryptionContext:eventType":\
    [\(eventTypes.joined(separator: ","))]}},"Effect":"Allow","Resource":"\(keyARN)",\
    "Sid":"ProduceDomainEvents"},{"Action":"kms:DescribeKey","Effect":"Allow","Resource":"\(keyARN)",\
    "Sid":"DescribeDomainKey"}],"Version":"2012-10-17"}
    """
}
