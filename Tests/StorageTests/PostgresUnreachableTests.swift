import Foundation
import PostgresStorage
import SealedTesting
import Storage
import Testing

/// PostgreSQL refusing connections (its database closed to new ones, every session ended): a statement gives up
/// waiting for a connection after the pool's ``PostgresStorage/PostgresDatabase/connectionWait`` and a probe (not
/// postgres-nio's minute) with an unreachable `databaseUnavailable`, which the server answers 503; the same pool
/// serves again once connections are allowed. A pool that is only busy is waited for, however long.
struct PostgresUnreachableTests {
    @Test func aStatementGivesUpWaitingForAConnectionAndTheSamePoolServesAgain() async throws {
        try await PostgresTesting.withPool(maximumConnections: 2, connectionWait: .milliseconds(300)) {
            fixture,
            url,
            database in
            // The pool's first connection may take longer than the short wait on a busy machine; it joins the pool
            // once made.
            try await eventually("the pool connects", limit: .seconds(60)) {
                (try? await PostgresTesting.strings("SELECT 'before'", in: database)) == ["before"]
            }
            try await PostgresTesting.refusingConnections(fixture, url) {
                // A pooled connection the server just ended may fail first; then the pool has none to give.
                try await eventually("a statement gives up waiting for a connection", limit: .seconds(30)) {
                    let refused = await expectStorageError(.databaseUnavailable) {
                        _ = try await PostgresTesting.strings("SELECT 'during'", in: database)
                    }
                    #expect(refused?.isUnreachable == true, "\(String(describing: refused))")
                    return refused?.message.contains("gave no connection within 0.3 seconds") == true
                }
            }
            try await eventually("the same pool serves again", limit: .seconds(60)) {
                (try? await PostgresTesting.strings("SELECT 'after'", in: database)) == ["after"]
            }
        }
    }

    /// Every connection of the pool leased for three times the wait: a statement waiting for one is not refused,
    /// since PostgreSQL accepts connections; it runs when the connection is free. (The wait is 1 s, not the other
    /// test's 0.3 s: the probe must open a connection within it, which a loaded machine running the other suites
    /// beside this one did not always do in 0.3 s.)
    @Test func aBusyPoolIsWaitedForNotRefused() async throws {
        try await PostgresTesting.withPool(maximumConnections: 1, connectionWait: .seconds(1)) { _, _, database in
            try await eventually("the pool connects", limit: .seconds(60)) {
                (try? await PostgresTesting.strings("SELECT 'before'", in: database)) == ["before"]
            }
            async let held = PostgresTesting.strings("SELECT pg_sleep(3)::text", in: database)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await PostgresTesting.strings("SELECT 'waited'", in: database) == ["waited"])
            _ = try await held
        }
    }
}
