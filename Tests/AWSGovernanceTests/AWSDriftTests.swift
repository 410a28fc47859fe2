import AWSGovernance
import Foundation
import Testing

/// `sealed aws check`'s comparison: every hand edit named, foreign statements not counted as drift, and who can
/// really decrypt, by the live documents.
struct AWSDriftTests {
    static let account = "111122223333"
    static let key = "arn:aws:kms:eu-west-1:111122223333:key/1234"
    static let type = "payments.card.captured"
    static let carl = "arn:aws:iam::111122223333:user/carl"
    static let etl = "arn:aws:iam::111122223333:role/etl"
    static let end = Date(timeIntervalSince1970: 1_900_000_000)
    static let roleARN = "arn:aws:iam::111122223333:role/sealed/\(AWSNames.readerRole(eventType: type))"

    static var expected: AWSDrift.ExpectedReader {
        AWSDrift.ExpectedReader(eventType: type, keyARN: key, grants: [carl: end, etl: nil])
    }

    /// The account as the platform left it.
    static func live(_ edit: (inout TrustPolicy) -> Void = { _ in }) -> AWSDrift.LiveReader {
        var trust = TrustPolicy()
        trust.grant(carl, until: end)
        trust.grant(etl, until: nil)
        edit(&trust)
        return AWSDrift.LiveReader(
            trustPolicy: trust.document,
            readerPolicy: AWSPolicies.readerPolicy(keyARN: key, eventType: type)
        )
    }

    static var liveKey: AWSDrift.LiveKey {
        AWSDrift.LiveKey(arn: key, enabled: true, pendingDeletion: false, keyPolicy: AWSPolicies.keyPolicy(account: account))
    }

    static func differences(_ reader: AWSDrift.LiveReader?, key: AWSDrift.LiveKey = liveKey) -> [AWSDrift.Difference] {
        AWSDrift.differences(
            readers: [expected],
            liveReaders: reader.map { [expected.roleName: $0] } ?? [:],
            keys: [key],
            account: account
        )
    }

    @Test func anAccountAsThePlatformLeftItHasNoDrift() {
        #expect(Self.differences(Self.live()).isEmpty)
        // Reformatted by IAM (spacing, member order): still the same documents.
        var reformatted = Self.live()
        reformatted.readerPolicy = reformatted.readerPolicy?.replacingOccurrences(of: ",", with: ", ")
        #expect(Self.differences(reformatted).isEmpty)
    }

    @Test func everyHandEditIsNamed() {
        #expect(Self.differences(nil) == [.roleMissing(eventType: Self.type)])
        #expect(Self.differences(Self.live { $0.revoke(Self.carl) }) == [.grantMissing(eventType: Self.type, principal: Self.carl)])
        let mallory = "arn:aws:iam::111122223333:user/mallory"
        #expect(Self.differences(Self.live { $0.grant(mallory, until: nil) }) == [.grantExtra(eventType: Self.type, principal: mallory)])
        #expect(
            Self.differences(Self.live { $0.grant(Self.carl, until: nil) })
                == [.grantEndChanged(eventType: Self.type, principal: Self.carl, expected: Self.end, live: nil)]
        )
        var widened = Self.live()
        widened.readerPolicy = AWSPolicies.readerPolicy(keyARN: Self.key, eventType: "*")
        #expect(Self.differences(widened) == [.readerPolicyChanged(eventType: Self.type)])
        var stripped = Self.live()
        stripped.readerPolicy = nil
        #expect(Self.differences(stripped) == [.readerPolicyChanged(eventType: Self.type)])
        var forged = Self.live()
        forged.trustPolicy = forged.trustPolicy?.replacingOccurrences(of: "user/carl", with: "user/mallory")
        #expect(Self.differences(forged).count == 1)
        if case .trustPolicyUnreadable? = Self.differences(forged).first {} else { Issue.record("a forged grant is not reported") }

        var disabled = Self.liveKey
        disabled.enabled = false
        #expect(Self.differences(Self.live(), key: disabled) == [.keyDisabled(keyARN: Self.key)])
        var deleting = Self.liveKey
        deleting.pendingDeletion = true
        deleting.keyPolicy = #"{"Version":"2012-10-17","Statement":[]}"#
        #expect(Self.differences(Self.live(), key: deleting) == [.keyPendingDeletion(keyARN: Self.key), .keyPolicyChanged(keyARN: Self.key)])
        #expect(AWSDrift.Difference.grantExtra(eventType: Self.type, principal: mallory).description.contains("holds no grant"))
    }

    @Test func foreignStatementsAreNotDriftButTheyCanRead() throws {
        let admin = "arn:aws:iam::111122223333:role/admin"
        var live = Self.live()
        let document = try #require(live.trustPolicy)
        live.trustPolicy = document.replacingOccurrences(
            of: #""Statement":["#,
            with: #""Statement":[{"Sid":"BreakGlass","Effect":"Allow","Principal":{"AWS":"\#(admin)"},"Action":"sts:AssumeRole"},"#
        )
        #expect(Self.differences(live).isEmpty, "an administrator's statement is not the platform's to judge")
        let readers = AWSDrift.effectiveReaders(
            of: Self.expected,
            roleARN: Self.roleARN,
            live: live,
            keyPolicy: AWSPolicies.keyPolicy(account: Self.account),
            at: Self.end.addingTimeInterval(-60)
        )
        #expect(readers == [admin, Self.etl, Self.carl].sorted(), "who can really decrypt, the break-glass role included")
        let later = AWSDrift.effectiveReaders(
            of: Self.expected,
            roleARN: Self.roleARN,
            live: live,
            keyPolicy: AWSPolicies.keyPolicy(account: Self.account),
            at: Self.end.addingTimeInterval(60)
        )
        #expect(later == [admin, Self.etl].sorted(), "carl's grant has ended")
    }

    @Test func aRoleThatCannotDecryptHasNoReaders() {
        var live = Self.live()
        live.readerPolicy = AWSPolicies.readerPolicy(keyARN: Self.key, eventType: "another.type")
        #expect(
            AWSDrift.effectiveReaders(
                of: Self.expected,
                roleARN: Self.roleARN,
                live: live,
                keyPolicy: AWSPolicies.keyPolicy(account: Self.account),
                at: Date()
            ).isEmpty
        )
        let deny = #"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]}"#
        #expect(AWSDrift.effectiveReaders(of: Self.expected, roleARN: Self.roleARN, live: Self.live(), keyPolicy: deny, at: Date()).isEmpty)
    }
}
