/// Work every request of the edge runs inside, set up by the storage back end (with PostgreSQL, the one read of the
/// cache epoch a request's lookups share).
public protocol RequestScope: Sendable {
    /// Runs `body`, one request's whole handling, inside the scope.
    func run<R>(isolation: isolated (any Actor)?, _ body: () async throws -> R) async throws -> R
}
