import Synchronization

/// Parsed policies by their text, so a caller that holds policies as text (the key service passes each key's policy
/// with every request) parses each one once.
///
/// Bounded: when full, the cache is emptied and starts over, which keeps it simple and lock hold times short.
/// Policies that fail to parse are not cached.
public final class PolicyCache: Sendable {
    private struct Key: Hashable {
        let text: String
        let kind: PolicyKind
    }

    private let entries = Mutex<[Key: PolicyDocument]>([:])
    /// The most policies kept.
    public let capacity: Int

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    /// The parsed policy for a text, parsing it on first use.
    ///
    /// - Throws: ``PolicyError`` when the text is not a valid policy of that kind.
    public func policy(for text: String, kind: PolicyKind) throws(PolicyError) -> PolicyDocument {
        let key = Key(text: text, kind: kind)
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let parsed = try PolicyDocument(parsing: text, kind: kind)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = parsed
        }
        return parsed
    }

    /// The number of cached policies.
    public var count: Int { entries.withLock { $0.count } }
}
