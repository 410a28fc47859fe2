import PostgresNIO
import Storage

extension PostgresConnection {
    /// Asks the session a trivial query; `nil` when it answers within `timeout`, otherwise why not, as it may be logged
    /// (the connection is then closed: a query in flight on a silent network ends only with its connection).
    ///
    /// Detects what a connection at rest cannot: a terminated backend, a restarted server, a cut network.
    func unanswered(within timeout: Duration, url: PostgresURL) async -> String? {
        let outcome = await withTaskGroup(of: String??.self) { group in
            group.addTask {
                do {
                    try await self.run("SELECT 1")
                    return .some(nil)
                } catch {
                    return .some(Self.reason(error, url))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .some("PostgreSQL did not answer within \(timeout)")
                } catch {
                    return nil
                }
            }
            let first = await group.next() ?? nil
            if case .some(.some) = first { try? await self.close() }
            group.cancelAll()
            while await group.next() != nil {}
            return first ?? nil
        }
        return outcome
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
