import AWSGovernance
import AccessControl
import Foundation
import Testing

/// The names and documents the platform writes in AWS, checked by parsing them with the platform's own policy parser
/// and evaluating them with its evaluator (moto stores documents but enforces neither trust policies nor KMS
/// conditions, so this is where their effect is proven).
struct AWSGovernanceTests {
    static let account = "111122223333"
    static let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    // MARK: - Names

    @Test(arguments: [
        ("payments.card.captured", "payments.card.captured"), ("Orders.V1", "_orders._v1"),
        ("orders_v1", "orders__v1"), ("a b/c", "a=20b=2fc"), ("été", "=c3=a9t=c3=a9"),
    ])
    func namesAreEncodedOneToOne(value: String, encoded: String) {
        #expect(AWSNames.encode(value) == encoded)
        #expect(AWSNames.decode(encoded) == value)
    }

    @Test func namesThatIAMWouldConfuseStayApart() {
        let values = ["orders", "Orders", "ORDERS", "orders_", "orders__", "_orders", "orders=2e", "orders."]
        let names = values.map(AWSNames.readerRole(eventType:))
        #expect(Set(names.map { $0.lowercased() }).count == values.count, "IAM compares role names without case")
        for name in names {
            #expect(name.utf8.count <= 64)
            #expect(name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-".contains($0)) })
        }
        #expect(AWSNames.decode("_O") == nil && AWSNames.decode("_") == nil && AWSNames.decode("=zz") == nil)
        #expect(AWSNames.decode("=2F") == nil, "hex digits are lower case, so each name has one spelling")
    }

    @Test func randomNamesRoundTripAndLongOnesEndInAHash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcXYZ019._-_ é/")
        var seen: [String: String] = [:]
        for _ in 0..<2_000 {
            let value = String((0..<Int.random(in: 1...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(AWSNames.decode(AWSNames.encode(value)) == value)
            let role = AWSNames.readerRole(eventType: value).lowercased()
            if let other = seen[role] { #expect(other == value, "\(value) and \(other) share \(role)") }
            seen[role] = value
        }
        let long = String(repeating: "payments.card.", count: 6) + "captured"
        let name = AWSNames.readerRole(eventType: long)
        #expect(name.utf8.count == 64)
        #expect(name != AWSNames.readerRole(eventType: long + "2"))
        #expect(AWSNames.keyAlias(domain: "payments") == "alias/sealed/payments")
        #expect(AWSNames.keyAlias(domain: "Pay.ments") == "alias/sealed/_pay_2ements")
    }

    // MARK: - Trust policies

    static let breakGlass = #"{"Sid":"BreakGlass","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"sts:AssumeRole"}"#

    static func assume(_ policy: TrustPolicy, by caller: String, at date: Date, roleArn: String? = nil) throws -> Bool {
        let trust = try PolicyDocument(parsing: policy.document, kind: .trust)
        let allowAssume = try PolicyDocument(
            parsing: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
        )
        return PolicyEvaluator.evaluateAssumeRole(
            caller: CallerIdentity(arn: caller, account: account, roleArn: roleArn),
            roleArn: "arn:aws:iam::\(account):role/sealed/sealed-reader-payments.card.captured",
            trustPolicy: trust,
            identityPolicies: [allowAssume],
            context: RequestContext(currentTime: date)
        ).isAllowed
    }

    @Test func grantsAreEditedBesideForeignStatementsWhichStayAsWritten() throws {
        let carl = "arn:aws:iam::\(Self.account):user/carl"
        let etl = "arn:aws:iam::\(Self.account):role/etl"
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var policy = try TrustPolicy(parsing: #"{"Version":"2012-10-17","Statement":\#(Self.breakGlass)}"#)
        #expect(policy.grants.isEmpty && policy.foreignStatementCount == 1)
        policy.grant(carl, until: now.addingTimeInterval(86_400))
        policy.grant(etl, until: nil)
        #expect(policy.document.contains(Self.breakGlass), "the foreign statement is kept byte for byte")
        #expect(policy.document.hasPrefix(#"{"Version":"2012-10-17","Statement":[\#(Self.breakGlass),"#))

        let reread = try TrustPolicy(parsing: policy.document)
        #expect(reread == policy)
        #expect(reread.grants == [carl: now.addingTimeInterval(86_400), etl: nil])

        #expect(try Self.assume(policy, by: carl, at: now))
        #expect(try !Self.assume(policy, by: carl, at: now.addingTimeInterval(86_401)), "the grant's end is enforced")
        #expect(try Self.assume(policy, by: etl, at: now.addingTimeInterval(10 * 86_400)))
        #expect(try Self.assume(policy, by: "arn:aws:iam::\(Self.account):role/admin", at: now))
        #expect(try !Self.assume(policy, by: "arn:aws:iam::\(Self.account):user/mallory", at: now))

        policy.revoke(carl)
        policy.revoke("arn:aws:iam::\(Self.account):role/admin")  // not the platform's: left alone
        #expect(try !Self.assume(policy, by: carl, at: now))
        #expect(try Self.assume(policy, by: "arn:aws:iam::\(Self.account):role/admin", at: now))
        #expect(try TrustPolicy(parsing: policy.document).grants == [etl: nil])
    }

    @Test func aRolesGrantServesEverySessionOfTheRole() throws {
        let role = "arn:aws:iam::\(Self.account):role/analytics"
        var policy = TrustPolicy()
        policy.grant(role, until: nil)
        #expect(try TrustPolicy(parsing: policy.document).grants == [role: nil])
        let session = "arn:aws:sts::\(Self.account):assumed-role/analytics/job-7"
        #expect(try Self.assume(policy, by: session, at: Date(), roleArn: role))
        let other = "arn:aws:sts::\(Self.account):assumed-role/other/x"
        #expect(try !Self.assume(policy, by: other, at: Date(), roleArn: "arn:aws:iam::\(Self.account):role/other"))
    }

    @Test func aStatementMarkedAsTheGrantOfAnotherPrincipalIsRefused() throws {
        var policy = TrustPolicy()
        policy.grant("arn:aws:iam::\(Self.account):user/carl", until: nil)
        let forged = policy.document.replacingOccurrences(of: "user/carl", with: "user/mallory")
        #expect(throws: AWSDocumentError.self) { try TrustPolicy(parsing: forged) }
        #expect(throws: AWSDocumentError.self) { try TrustPolicy(parsing: "[]") }
        #expect(throws: AWSDocumentError.self) { try TrustPolicy(parsing: #"{"Statement":"x"}"#) }
    }

    // MARK: - Key, reader and producer policies

    static func decrypt(_ context: [String: String]?, with policies: [String], keyPolicy: String? = nil) throws -> Bool {
        let request = EvaluationRequest(
            principal: CallerIdentity(arn: "arn:aws:sts::\(account):assumed-role/sealed-reader/s", account: account),
            action: "kms:Decrypt",
            resource: key,
            context: RequestContext(encryptionContext: context)
        )
        let identity = try policies.map { try PolicyDocument(parsing: $0) }
        guard let keyPolicy else { return PolicyEvaluator.evaluate(request, identityPolicies: identity).isAllowed }
        return PolicyEvaluator.evaluate(
            request,
            resourcePolicy: try PolicyDocument(parsing: keyPolicy, kind: .resource),
            identityPolicies: identity
        ).isAllowed
    }

    @Test func aReaderDecryptsItsEventTypeOnlyAndTheKeyRefusesDecryptWithoutOne() throws {
        let reader = AWSPolicies.readerPolicy(keyARN: Self.key, eventType: "payments.card.captured")
        let keyPolicy = AWSPolicies.keyPolicy(account: Self.account)
        #expect(try Self.decrypt(["eventType": "payments.card.captured"], with: [reader], keyPolicy: keyPolicy))
        #expect(try !Self.decrypt(["eventType": "payments.refund.issued"], with: [reader], keyPolicy: keyPolicy))
        #expect(try !Self.decrypt(nil, with: [reader], keyPolicy: keyPolicy))
        let everything = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#
        #expect(try !Self.decrypt(nil, with: [everything], keyPolicy: keyPolicy), "even kms:* cannot decrypt without an event type")
        #expect(try Self.decrypt(["eventType": "anything"], with: [everything], keyPolicy: keyPolicy))
    }

    @Test func producersSealOnlyTheirDomainsEventTypes() throws {
        let policy = try PolicyDocument(parsing: AWSPolicies.producerPolicy(keyARN: Self.key, eventTypes: ["b", "a", "a"]))
        func allowed(_ action: String, _ type: String?) -> Bool {
            PolicyEvaluator.evaluate(
                EvaluationRequest(
                    principal: CallerIdentity(arn: "arn:aws:iam::\(Self.account):user/producer"),
                    action: action,
                    resource: Self.key,
                    context: RequestContext(encryptionContext: type.map { ["eventType": $0] })
                ),
                identityPolicies: [policy]
            ).isAllowed
        }
        #expect(allowed("kms:GenerateDataKey", "a") && allowed("kms:Encrypt", "b") && allowed("kms:DescribeKey", nil))
        #expect(!allowed("kms:GenerateDataKey", "c") && !allowed("kms:GenerateDataKey", nil) && !allowed("kms:Decrypt", "a"))
        #expect(AWSPolicies.producerPolicy(keyARN: Self.key, eventTypes: ["b", "a", "a"]).contains(#"["a","b"]"#))
    }
}
