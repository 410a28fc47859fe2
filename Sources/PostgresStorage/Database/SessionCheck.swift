import PostgresNIO
import Storage

extension PostgresConnection {
    /// Asks the session a trivial query; `nil` when it answers within `timeout`, otherwise why not, as it may be logged
    /// (the connection is then closed: a query in flight on a silent network ends only with its connection).
    ///
    /// Detects what a connection at rest cannot: a terminated backend, a restarted server, a cut network.
    func unanswered(within timeout: Duration, url: PostgresURL) async -> String? {
        if isClosed { return "the connection to PostgreSQL is closed" }
        // Unstructured tasks, raced through a stream: a query on a connection the server ended can stay pending even
        // after the connection is closed, and a task group would wait for it.
        let (outcomes, continuation) = AsyncStream.makeStream(of: String?.self)
        let query = Task {
            do {
                try await self.run("SELECT 1")
                continuation.yield(nil)
            } catch {
                continuation.yield(Self.reason(error, url))
            }
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            continuation.yield("PostgreSQL did not answer within \(timeout)")
        }
        var iterator = outcomes.makeAsyncIterator()
        let first = await iterator.next() ?? nil
        continuation.finish()
        timer.cancel()
        query.cancel()
        if first != nil { try? await close() }
        return first
    }

    /// A failure's reason as it may be logged: PostgreSQL's message (see ``PostgresDatabase``; never a bound value or
    /// the URL's password), or the error's type.
    static func reason(_ error: any Error, _ url: PostgresURL) -> String {
        switch error {
        case let error as PSQLError: PostgresDatabase.unavailable(url, error).message
        case let error as StorageError: error.message
        default: "\(type(of: error))"
        }
    }
}
