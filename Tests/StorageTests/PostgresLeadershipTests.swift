import PostgresNIO
import PostgresStorage
import SealedTesting
import Synchronization
import Testing

/// Leader election by advisory lock: two replicas on one database, one leads, and a terminated leader's backend
/// hands the role to the other.
struct PostgresLeadershipTests {
    typealias Role = PostgresLeadership.Role

    @Test func everyRoleHasItsOwnStableKey() {
        #expect(Set(Role.all.map(\.key)).count == Role.all.count)
        #expect(Set(Role.all.map(\.name)).count == Role.all.count)
        // FNV-1a (32 bit) of "access-expiry", computed independently: the same on every replica and version.
        #expect(Role.expiry.key == 867_085_153)
        #expect(Role.namespace == 0x5365_616C)
    }

    @Test(.timeLimit(.minutes(2))) func exactlyOneReplicaLeadsAndATerminatedLeaderHandsOver() async throws {
        try await PostgresTesting.withTwoReplicas { a, b in
            let log = LeadershipLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, database) in [("a", a), ("b", b)] {
                    group.addTask {
                        let leadership = PostgresLeadership(
                            database: database,
                            interval: .milliseconds(100),
                            logger: quietLogger
                        )
                        try await leadership.lead(.expiry, onChange: { log.note(name, $0) }) {
                            log.started(name)
                            do {
                                try await Task.sleep(for: .seconds(3600))
                            } catch {
                                log.cancelled(name)
                                throw error
                            }
                        }
                    }
                }

                try await eventually("a replica leads", limit: .seconds(30)) { log.leaders.count == 1 }
                let first = try #require(log.leaders.first)
                let second = first == "a" ? "b" : "a"
                // The other keeps trying and is refused while the first leads.
                let tries = log.standbys(second)
                try await eventually("\(second) tried five more times", limit: .seconds(30)) {
                    log.standbys(second) >= tries + 5
                }
                #expect(log.leaders == [first])
                #expect(log.mostLeadersAtOnce == 1)
                let holders = try await lockHolders(a)
                #expect(holders.count == 1)

                // Terminate the leader's session from a third connection: PostgreSQL releases the lock.
                let leader = try #require(holders.first)
                let terminated = try await a.query("SELECT pg_terminate_backend(\(leader))").map {
                    try $0.decode(Bool.self)
                }
                #expect(terminated == [true])

                try await eventually("\(second) takes over and \(first) lets go", limit: .seconds(30)) {
                    log.leaders == [second] && log.losses(first) == 1
                }
                #expect(log.cancelledBodies == [first])
                #expect(try await lockHolders(b).count == 1)
                group.cancelAll()
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func aBodyThatReturnsReleasesTheRoleAndTheNextReplicaLeads() async throws {
        try await PostgresTesting.withTwoReplicas { a, b in
            let first = PostgresLeadership(database: a, interval: .milliseconds(100), logger: quietLogger)
            try await first.lead(.busRetention) {}
            #expect(try await lockHolders(a, .busRetention).isEmpty)
            let ran = Mutex(false)
            let second = PostgresLeadership(database: b, interval: .milliseconds(100), logger: quietLogger)
            try await second.lead(.busRetention) { ran.withLock { $0 = true } }
            #expect(ran.withLock { $0 })
        }
    }

    /// The sessions holding `role`'s lock in this test's database (advisory locks are per database; other tests, and
    /// `sealed serve` replicas, hold the same roles in theirs).
    private func lockHolders(_ database: PostgresDatabase, _ role: Role = .expiry) async throws -> [Int32] {
        try await database.query(
            """
            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND classid::bigint = \(Int64(Role.namespace))
                AND objid::bigint = \(Int64(UInt32(bitPattern: role.key)))
            """
        ).map { try $0.decode(Int32.self) }
    }
}

/// What each replica's leadership did, as the test sees it.
private final class LeadershipLog: Sendable {
    private struct State {
        var leading: Set<String> = []
        var mostAtOnce = 0
        var cancelled: [String] = []
        var changes: [String: [PostgresLeadership.Change]] = [:]
    }

    private let state = Mutex(State())

    var leaders: Set<String> { state.withLock { $0.leading } }
    var mostLeadersAtOnce: Int { state.withLock { $0.mostAtOnce } }
    var cancelledBodies: [String] { state.withLock { $0.cancelled } }

    func standbys(_ name: String) -> Int {
        state.withLock { $0.changes[name, default: []].count(where: { $0 == .standingBy }) }
    }
    func losses(_ name: String) -> Int {
        state.withLock { $0.changes[name, default: []].count(where: { $0 == .lost }) }
    }

    func note(_ name: String, _ change: PostgresLeadership.Change) {
        state.withLock { $0.changes[name, default: []].append(change) }
    }

    func started(_ name: String) {
        state.withLock { state in
            state.leading.insert(name)
            state.mostAtOnce = max(state.mostAtOnce, state.leading.count)
        }
    }

    func cancelled(_ name: String) {
        state.withLock { state in
            state.leading.remove(name)
            state.cancelled.append(name)
        }
    }
}
