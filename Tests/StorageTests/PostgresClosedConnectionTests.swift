import Foundation
import PostgresNIO
import PostgresStorage
import SealedTesting
import Storage
import Testing

/// A statement on a connection that closes around it ends: it is answered, or it fails as unreachable. postgres-nio
/// discards a statement written into a channel that has already closed and dropped its handlers, and never answers
/// it; `PostgresConnection.run` therefore checks the connection and writes the statement in one job of the
/// connection's event loop.
struct PostgresClosedConnectionTests {
    /// The loop is held while the connection's close and then the statement are queued on it. The check runs on the
    /// loop, after the close: the statement is refused before it is sent. (A check made on the caller's thread would
    /// see the connection still open, and the statement would reach postgres-nio's handler after the close, which
    /// fails it with its own error instead.) The connection has an event loop of its own: holding a loop of the
    /// shared group would stall every other suite's connections on it.
    @Test func aStatementQueuedBehindItsConnectionsCloseIsRefusedUnsent() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            do {
                let loop = group.next()
                let connection = try await PostgresConnection.connect(
                    on: loop,
                    configuration: try url.connectionConfiguration(),
                    id: 1,
                    logger: quietLogger
                )
                let loopHeld = DispatchSemaphore(value: 0)
                loop.execute { loopHeld.wait() }
                let closing: EventLoopFuture<Void> = connection.close()
                #expect(!connection.isClosed, "the close waits behind the held loop")
                let statement = Task { try await connection.run("SELECT 1") }
                // Released by a thread of its own, whatever the tasks of other suites keep busy.
                Thread.detachNewThread {
                    usleep(50_000)
                    loopHeld.signal()
                }
                let error = await #expect(throws: StorageError.self) { try await statement.value }
                #expect(error?.code == .databaseUnavailable && error?.isUnreachable == true)
                #expect(error?.message == "The connection to PostgreSQL was closed before the statement was sent.")
                try await closing.get()
            } catch {
                try await group.shutdownGracefully()
                throw error
            }
            try await group.shutdownGracefully()
        }
    }

    /// Statements raced with their connection's close at varying moments (before the write, while it is in flight,
    /// after the answer): every one ends, answered or failed as unreachable. A statement lost in a closed channel would
    /// hang this test until its time limit.
    @Test(.timeLimit(.minutes(2))) func aStatementRacedWithItsConnectionsCloseAlwaysEnds() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            try await PostgresDatabase.withDatabase(url, maximumConnections: 2, logger: quietLogger) { database in
                for attempt in 0..<200 {
                    // 0 to 398 µs, spread over the attempts: before, during and after the statement's round trip.
                    let delay = attempt * 2
                    try await database.withConnection { connection in
                        let statement = Task { try await connection.run("SELECT 1") }
                        if delay > 0 { try await Task.sleep(for: .microseconds(delay)) }
                        let closing: EventLoopFuture<Void> = connection.close()
                        try await closing.get()
                        do {
                            #expect(try await statement.value.count == 1)
                        } catch let error as StorageError {
                            #expect(error.isUnreachable, "\(error)")
                        } catch let error as PSQLError {
                            #expect(PostgresDatabase.isUnreachable(error), "\(error.code)")
                        }
                    }
                }
            }
        }
    }
}
