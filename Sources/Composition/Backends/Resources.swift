import Synchronization

/// What a built platform must release when it stops — the bus, the audit store, the database, the directory lock —
/// released once, newest first.
final class Resources: Sendable {
    private let closers = Mutex<[@Sendable () throws -> Void]>([])

    /// Registers a release; it runs at ``close()`` before those registered earlier.
    func onClose(_ closer: @escaping @Sendable () throws -> Void) {
        closers.withLock { $0.append(closer) }
    }

    /// Runs every release, newest first, once; a failed release does not stop the others.
    func close() {
        let pending = closers.withLock { closers in
            defer { closers = [] }
            return closers
        }
        for closer in pending.reversed() { try? closer() }
    }
}
