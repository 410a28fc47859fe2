import Testing

@testable import AccessControl

/// Roles and role-session patterns as team members: which ARNs are accepted, and which callers each admits.
struct TeamMemberTests {
    let account = "111122223333"

    @Test func aRoleAdmitsItselfAndItsSessions() throws {
        let member = try TeamMember("arn:aws:iam::\(account):role/Reviewers", account: account)
        #expect(member.admits("arn:aws:iam::\(account):role/Reviewers"))
        #expect(member.admits("arn:aws:sts::\(account):assumed-role/Reviewers/anyone"))
        #expect(!member.admits("arn:aws:sts::\(account):assumed-role/ReviewersX/anyone"))
        #expect(!member.admits("arn:aws:iam::\(account):user/Reviewers"))
        #expect(!member.admits("arn:aws:sts::444455556666:assumed-role/Reviewers/anyone"))
    }

    @Test func aSessionPatternAdmitsTheMatchingSessionsOfItsRoleOnly() throws {
        let member = try TeamMember("arn:aws:sts::\(account):assumed-role/Reviewers/erin-*", account: account)
        #expect(member.admits("arn:aws:sts::\(account):assumed-role/Reviewers/erin-review"))
        #expect(member.admits("arn:aws:sts::\(account):assumed-role/Reviewers/erin-"))
        #expect(!member.admits("arn:aws:sts::\(account):assumed-role/Reviewers/other-review"))
        #expect(!member.admits("arn:aws:sts::\(account):assumed-role/Writers/erin-review"))
        #expect(!member.admits("arn:aws:iam::\(account):role/Reviewers"))
        let any = try TeamMember("arn:aws:sts::\(account):assumed-role/Reviewers/*", account: account)
        #expect(any.admits("arn:aws:sts::\(account):assumed-role/Reviewers/x"))
        #expect(!any.admits("arn:aws:sts::\(account):assumed-role/Reviewers2/x"))
        let exact = try TeamMember("arn:aws:sts::\(account):assumed-role/Reviewers/erin", account: account)
        #expect(exact.admits("arn:aws:sts::\(account):assumed-role/Reviewers/erin"))
        #expect(!exact.admits("arn:aws:sts::\(account):assumed-role/Reviewers/erin2"))
    }

    @Test func globMatchesRunsInOrder() {
        #expect(TeamMember.glob("a*b*c", matches: "abc"))
        #expect(TeamMember.glob("a*b*c", matches: "aXXbYYc"))
        #expect(!TeamMember.glob("a*b*c", matches: "acb"))
        #expect(!TeamMember.glob("ab*ba", matches: "aba"))
        #expect(TeamMember.glob("*", matches: ""))
    }

    @Test func otherARNsAreRefused() {
        for arn in [
            "arn:aws:iam::\(account):role/path/Reviewers",
            "arn:aws:sts::\(account):assumed-role/Reviewers",
            "arn:aws:sts::\(account):assumed-role/Reviewers/a/b",
            "arn:aws:sts::\(account):assumed-role/Reviewers/a?",
            "arn:aws:sts::444455556666:assumed-role/Reviewers/*",
            "arn:aws:iam::\(account):group/team",
            "arn:aws:sts::\(account):federated-user/erin",
        ] {
            #expect(throws: AccessControlError.self, "\(arn)") { try TeamMember(arn, account: account) }
        }
    }
}
