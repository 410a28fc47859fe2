/// Who owns each consumer group: the principal that first fetched from it or committed to it.
///
/// The bus is open (anyone authenticated reads any topic), but a consumer group's position is its owner's: another
/// principal fetching from it would take its deliveries, and committing to it would skip events its owner never
/// processed. The platform therefore lets only a group's owner (or a principal its policies allow on the group) fetch
/// and commit, and keeps the owners here, apart from the transport, so the embedded and the JetStream bus share it.
public protocol ConsumerGroupOwners: Sendable {
    /// The owner of `group` on `topic`: the one on record, or `claimant`, recorded as the owner, when there is none.
    /// Atomic: of two first claims made at once, one wins and both are told the winner.
    func claim(group: String, topic: String, for claimant: String) async throws -> String
}

/// ``ConsumerGroupOwners`` in memory, for tests and ephemeral servers.
public actor InMemoryConsumerGroupOwners: ConsumerGroupOwners {
    private var owners: [GroupCursors.Key: String] = [:]

    public init() {}

    public func claim(group: String, topic: String, for claimant: String) -> String {
        let key = GroupCursors.Key(topic: topic, group: group)
        if let owner = owners[key] { return owner }
        owners[key] = claimant
        return claimant
    }
}
