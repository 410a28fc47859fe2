import AuditTrail
import Crypto
import Foundation
import Logging
import Synchronization

/// Builds sample records: KMS Decrypt calls by a role session for an event type, plus a few other kinds.
enum Samples {
    static let account = "000000000000"
    static let keyID = "6f1c0a4e-1111-4222-8333-944445555666"
    static let keyARN = "arn:aws:kms:us-east-1:000000000000:key/6f1c0a4e-1111-4222-8333-944445555666"
    static let otherKeyARN = "arn:aws:kms:us-east-1:000000000000:key/0b0b0b0b-1111-4222-8333-944445555666"
    static let baseTime = Date(timeIntervalSince1970: 1_795_000_000)

    static func decrypt(
        _ index: Int,
        eventType: String = "payments.card.captured",
        session: String = "checkout",
        keyARN: String = keyARN,
        errorCode: String? = nil,
        time: Date? = nil
    ) -> Record {
        Record.kms(
            operation: "Decrypt",
            request: [
                "KeyId": .string(keyARN),
                "CiphertextBlob": "AQICAHh-secret-blob",
                "EncryptionContext": ["eventType": .string(eventType), "domain": "payments"],
            ],
            keyARN: keyARN,
            userIdentity: .assumedRole(
                roleName: "reader-\(eventType)",
                sessionName: session,
                accountId: account,
                roleId: "AROAEXAMPLE",
                accessKeyId: "ASIAEXAMPLE\(index)"
            ),
            eventTime: time ?? baseTime.addingTimeInterval(Double(index)),
            awsRegion: "us-east-1",
            recipientAccountId: account,
            requestID: "req-\(index)",
            sourceIPAddress: "127.0.0.1",
            userAgent: "sealed-tests/1.0 \"quoted\" \\ tab\t",
            errorCode: errorCode,
            errorMessage: errorCode.map { "User is not authorized (\($0))" }
        )
    }

    static func userCall(_ index: Int, user: String = "alice", name: String = "CreateKey") -> Record {
        Record(
            eventTime: baseTime.addingTimeInterval(Double(index)),
            eventSource: .kms,
            eventName: name,
            awsRegion: "us-east-1",
            userIdentity: .iamUser(name: user, accountId: account, principalId: "AIDA\(user)", accessKeyId: "AKIA1"),
            requestParameters: ["description": "ünïcödé 🔑 key", "keySpec": "SYMMETRIC_DEFAULT", "n": 1.5],
            responseElements: ["keyMetadata": ["keyId": .string(keyID)]],
            requestID: "req-u\(index)",
            readOnly: false,
            resources: [.kmsKey(arn: keyARN)],
            recipientAccountId: account
        )
    }

    /// A chain of `count` records with a digest after each `digestEvery` records, signed by `key`.
    static func chain(
        count: Int,
        digestEvery: Int,
        key: AuditSigningKey
    ) async throws -> (records: [[UInt8]], digests: [SignedDigest], store: InMemoryAuditStore) {
        let store = InMemoryAuditStore()
        let service = DigestService(
            store: store,
            signingKey: key,
            clock: ContinuousClock(),
            now: { baseTime },
            logger: .init(label: "test")
        )
        for index in 1...count {
            try await store.record(index % 3 == 0 ? userCall(index) : decrypt(index))
            if index % digestEvery == 0 { try await service.signIfNeeded() }
        }
        return (await store.canonicalRecords(), try await store.digests(), store)
    }
}

/// A clock that moves only when the test advances it; sleepers wake when their deadline is reached.
///
/// ``waitForSleepers(_:)`` lets a test wait, without timing, until a service has finished its work and gone back to
/// sleep.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var cancelled: Set<Int> = []
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resume, watchers) = state.withLock {
                    state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    if state.cancelled.remove(id) != nil { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (nil, Self.takeSatisfiedWatchers(&state))
                }
                for watcher in watchers { watcher.resume() }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                if let sleeper = state.sleepers.removeValue(forKey: id) { return sleeper }
                state.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes the sleepers whose deadline passed.
    func advance(by duration: Duration) {
        let woken = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return Array(due.values)
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Returns once at least `count` tasks sleep on this clock.
    func waitForSleepers(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.sleepers.count >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private static func takeSatisfiedWatchers(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let count = state.sleepers.count
        let ready = state.watchers.filter { $0.count <= count }.map(\.continuation)
        state.watchers.removeAll { $0.count <= count }
        return ready
    }
}
