import Foundation
import Synchronization
import Testing

@testable import Console

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    var read: @Sendable () -> Date { { self.now } }
}

struct SessionStoreTests {
    let alice = ConsolePrincipal(arn: "arn:aws:iam::000000000000:user/alice", accessKeyId: "AKIAALICE")

    @Test func signInReplacesTheAnonymousSessionWithANewIdAndToken() {
        let store = SessionStore()
        let anonymous = store.startAnonymous()
        #expect(anonymous.principal == nil)
        #expect(anonymous.id.count == 64 && anonymous.csrfToken.count == 64)
        let signedIn = store.signIn(alice, replacing: anonymous.id)
        #expect(signedIn.id != anonymous.id)
        #expect(signedIn.csrfToken != anonymous.csrfToken)
        #expect(store.session(anonymous.id) == nil, "the anonymous id no longer works (no fixation)")
        #expect(store.session(signedIn.id)?.principal == alice)
    }

    @Test func idleSessionsEndAndUseKeepsThemAlive() {
        let clock = TestClock()
        let store = SessionStore(policy: .init(idleTimeout: .seconds(1800)), now: clock.read)
        let session = store.signIn(alice, replacing: nil)
        clock.advance(1700)
        #expect(store.session(session.id) != nil)
        clock.advance(1700)
        #expect(store.session(session.id) != nil, "the previous use moved the idle deadline")
        clock.advance(1800)
        #expect(store.session(session.id) == nil)
        #expect(store.count == 0, "an expired session is forgotten")
    }

    @Test func sessionsEndAtTheAbsoluteLimitHoweverBusy() {
        let clock = TestClock()
        let store = SessionStore(
            policy: .init(idleTimeout: .seconds(1800), absoluteTimeout: .seconds(3600)),
            now: clock.read
        )
        let session = store.signIn(alice, replacing: nil)
        for _ in 0..<5 {
            clock.advance(700)
            #expect(store.session(session.id) != nil)
        }
        clock.advance(200)
        #expect(store.session(session.id) == nil)
    }

    @Test func sessionsEndWhenTheirCredentialsExpire() {
        let clock = TestClock()
        let store = SessionStore(now: clock.read)
        var principal = alice
        principal.credentialExpiration = clock.now.addingTimeInterval(600)
        let session = store.signIn(principal, replacing: nil)
        clock.advance(599)
        #expect(store.session(session.id) != nil)
        clock.advance(1)
        #expect(store.session(session.id) == nil)
    }

    @Test func signOutEndsTheSession() {
        let store = SessionStore()
        let session = store.signIn(alice, replacing: nil)
        store.end(session.id)
        #expect(store.session(session.id) == nil)
        store.end("unknown")
    }

    @Test func aFullStoreDropsAnonymousSessionsFirst() {
        let clock = TestClock()
        let store = SessionStore(policy: .init(maximumSessions: 3), now: clock.read)
        let signedIn = store.signIn(alice, replacing: nil)
        clock.advance(1)
        let first = store.startAnonymous()
        clock.advance(1)
        let second = store.startAnonymous()
        clock.advance(1)
        let third = store.startAnonymous()
        #expect(store.count == 3)
        #expect(store.session(signedIn.id) != nil, "the signed-in session stays")
        #expect(store.session(first.id) == nil, "the oldest anonymous one went")
        #expect(store.session(second.id) != nil && store.session(third.id) != nil)
    }

    @Test func theCSRFTokenMustMatchExactly() {
        let store = SessionStore()
        let session = store.signIn(alice, replacing: nil)
        #expect(session.acceptsCSRFToken(session.csrfToken))
        #expect(!session.acceptsCSRFToken(nil))
        #expect(!session.acceptsCSRFToken(""))
        #expect(!session.acceptsCSRFToken(String(session.csrfToken.dropLast())))
        #expect(!session.acceptsCSRFToken(String(session.csrfToken.dropLast()) + "x"))
        #expect(!session.acceptsCSRFToken(store.startAnonymous().csrfToken), "another session's token is refused")
    }

    @Test func noticesAreShownOnce() {
        let store = SessionStore()
        let session = store.signIn(alice, replacing: nil)
        store.setNotice(.init("done"), for: session.id)
        #expect(store.takeNotice(session.id)?.text == "done")
        #expect(store.takeNotice(session.id) == nil)
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equal([], []))
    }
}

struct SignInLinksTests {
    let arn = "arn:aws:iam::000000000000:user/alice"

    @Test func aLinkWorksOnce() throws {
        let links = SignInLinks()
        let (token, expiration) = links.mint(arn: arn, accessKeyId: "AKIAALICE")
        let inspected = try links.inspect(token)
        #expect(inspected.arn == arn && inspected.accessKeyId == "AKIAALICE" && inspected.expiration == expiration)
        let claim = try links.redeem(token)
        #expect(claim.arn == arn)
        #expect(throws: SignInLinks.Refusal.used) { try links.redeem(token) }
    }

    @Test func linksExpire() throws {
        let clock = TestClock()
        let links = SignInLinks(lifetime: .seconds(300), now: clock.read)
        let (token, _) = links.mint(arn: arn, accessKeyId: "AKIAALICE")
        clock.advance(299)
        _ = try links.inspect(token)
        clock.advance(1)
        #expect(throws: SignInLinks.Refusal.expired) { try links.redeem(token) }
    }

    @Test func aChangedTokenIsRefused() throws {
        let links = SignInLinks()
        let (token, _) = links.mint(arn: arn, accessKeyId: "AKIAALICE")
        let parts = token.split(separator: ".").map(String.init)
        // Another principal in the payload, the same MAC.
        let forged = String(decoding: Array(token.utf8), as: UTF8.self)
            .replacingOccurrences(of: parts[0], with: parts[0].replacingOccurrences(of: "616c696365", with: "6d616c6c6f"))
        #expect(forged != token)
        #expect(throws: SignInLinks.Refusal.malformed) { try links.redeem(forged) }
        // One digit of the MAC changed.
        var mac = Array(parts[1])
        mac[0] = mac[0] == "0" ? "1" : "0"
        #expect(throws: SignInLinks.Refusal.malformed) { try links.redeem(parts[0] + "." + String(mac)) }
        for garbage in ["", ".", "abc", parts[0], "zz.zz", token + "00"] {
            #expect(throws: SignInLinks.Refusal.malformed) { try links.redeem(garbage) }
        }
        // The real one still works: refusals used nothing up.
        _ = try links.redeem(token)
    }

    @Test func anotherServersLinkIsRefused() {
        let (token, _) = SignInLinks().mint(arn: arn, accessKeyId: "AKIAALICE")
        #expect(throws: SignInLinks.Refusal.malformed) { try SignInLinks().redeem(token) }
    }
}
