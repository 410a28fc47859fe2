import AccessControl
import Foundation
import Testing

/// The access request's transitions as a pure state machine: every rule, without I/O.
struct AccessRequestStateTests {
    static let start = Date(timeIntervalSinceReferenceDate: 800_000_000)
    static let requester = "arn:aws:iam::000000000000:user/analyst"
    static let reviewer = "arn:aws:iam::000000000000:user/reviewer"
    static let second = "arn:aws:iam::000000000000:user/reviewer2"

    func request(approvals: Int = 1, duration: Int? = nil) -> AccessRequest {
        AccessRequest(
            id: "ar-1",
            eventType: "payments.card.captured",
            requester: Self.requester,
            justification: "fraud analytics",
            durationSeconds: duration,
            approvalsRequired: approvals,
            creationDate: Self.start
        )
    }

    /// The code of the `AccessControlError` `body` throws, `nil` when it throws nothing.
    func code(_ body: () throws -> Void) -> AccessControlError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? AccessControlError)?.code
                ?? AccessControlError.Code(rawValue: "not an AccessControlError: \(error)")
        }
    }

    @Test func oneApprovalGrantsUntilRevokedWithoutADuration() throws {
        var request = request()
        #expect(try request.approve(by: Self.reviewer, comment: "ok", at: Self.start) == .grant(until: nil))
        #expect(request.status == .approved)
        #expect(request.grantsAccess(at: .distantFuture))
        #expect(request.expireIfDue(at: .distantFuture) == nil)
        #expect(try request.revoke(by: Self.reviewer, comment: "done", at: Self.start) == .removeGrant)
        #expect(request.status == .revoked)
        #expect(!request.grantsAccess(at: Self.start))
    }

    @Test func aDurationEndsTheGrantAtItsExpiry() throws {
        var request = request(duration: 3600)
        let approvedAt = Self.start.addingTimeInterval(10)
        let expiry = approvedAt.addingTimeInterval(3600)
        #expect(try request.approve(by: Self.reviewer, comment: "", at: approvedAt) == .grant(until: expiry))
        #expect(request.grantsAccess(at: expiry.addingTimeInterval(-0.001)))
        #expect(!request.grantsAccess(at: expiry))
        #expect(request.expireIfDue(at: expiry.addingTimeInterval(-1)) == nil)
        #expect(request.expireIfDue(at: expiry) == .removeGrant)
        #expect(request.status == .expired)
        #expect(request.expireIfDue(at: expiry) == nil)
    }

    @Test func twoApprovalsComeFromTwoDifferentReviewers() throws {
        var request = request(approvals: 2)
        #expect(try request.approve(by: Self.reviewer, comment: "", at: Self.start) == AccessRequest.Effect.none)
        #expect(request.status == .pending)
        #expect(code { _ = try request.approve(by: Self.reviewer, comment: "", at: Self.start) } == .invalidState)
        #expect(try request.approve(by: Self.second, comment: "", at: Self.start) == .grant(until: nil))
        #expect(request.approvals.map(\.reviewer) == [Self.reviewer, Self.second])
    }

    @Test func nobodyDecidesTheirOwnRequest() {
        var request = request()
        #expect(code { _ = try request.approve(by: Self.requester, comment: "", at: Self.start) } == .accessDenied)
        #expect(code { _ = try request.deny(by: Self.requester, comment: "no", at: Self.start) } == .accessDenied)
        #expect(request.status == .pending && request.approvals.isEmpty)
    }

    @Test func aDenialNeedsAComment() throws {
        var request = request()
        #expect(code { _ = try request.deny(by: Self.reviewer, comment: "", at: Self.start) } == .validationError)
        #expect(try request.deny(by: Self.reviewer, comment: "not needed", at: Self.start) == AccessRequest.Effect.none)
        #expect(request.status == .denied && request.denial?.comment == "not needed")
    }

    @Test func onlyTheRequesterCancelsAndOnlyWhilePending() throws {
        var request = request()
        #expect(code { _ = try request.cancel(by: Self.reviewer, at: Self.start) } == .accessDenied)
        #expect(try request.cancel(by: Self.requester, at: Self.start) == AccessRequest.Effect.none)
        #expect(request.status == .cancelled)
        var approved = self.request()
        _ = try approved.approve(by: Self.reviewer, comment: "", at: Self.start)
        #expect(code { _ = try approved.cancel(by: Self.requester, at: Self.start) } == .invalidState)
    }

    /// Every transition from every final or wrong state is refused and changes nothing.
    @Test(arguments: [AccessRequest.Status.denied, .cancelled, .revoked, .expired])
    func finalStatesAcceptNoTransition(status: AccessRequest.Status) {
        var request = request()
        request.status = status
        let before = request
        #expect(code { _ = try request.approve(by: Self.reviewer, comment: "", at: Self.start) } == .invalidState)
        #expect(code { _ = try request.deny(by: Self.reviewer, comment: "x", at: Self.start) } == .invalidState)
        #expect(code { _ = try request.cancel(by: Self.requester, at: Self.start) } == .invalidState)
        #expect(code { _ = try request.revoke(by: Self.reviewer, comment: "", at: Self.start) } == .invalidState)
        #expect(request.expireIfDue(at: .distantFuture) == nil)
        #expect(request == before)
    }

    @Test func aPendingRequestCannotBeRevoked() {
        var request = request()
        #expect(code { _ = try request.revoke(by: Self.reviewer, comment: "", at: Self.start) } == .invalidState)
    }
}
