import AccessControl
import Testing

@Suite struct ARNFieldsTests {
    @Test(arguments: [
        "arn:aws:iam::000000000000:user/alice",
        "arn:aws:sts::000000000000:assumed-role/reader/session",
        "arn:aws:kms:us-east-1:000000000000:key/6f1c0a4e-1111-4222-8333-944445555666",
        "arn:aws:s3:::bucket:with:colons",
        "arn:aws",
        "",
        ":",
        "::::::",
        "no colons at all",
        "arn:aws:iam::000000000000:",
        "ärn:ü:é::0:ß/ü",
    ])
    func fieldsAreThoseOfSplittingAtTheFirstFiveColons(arn: String) {
        #expect(
            CallerIdentity.arnFields(arn) == arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        )
    }

    @Test func callerIdentityReadsTheAccountAndTheSessionsRole() {
        let session = CallerIdentity(arn: "arn:aws:sts::123456789012:assumed-role/reader/checkout")
        #expect(session.account == "123456789012")
        #expect(session.roleArn == "arn:aws:iam::123456789012:role/reader")
        let user = CallerIdentity(arn: "arn:aws:iam::123456789012:user/alice")
        #expect(user.account == "123456789012")
        #expect(user.roleArn == nil)
    }
}
