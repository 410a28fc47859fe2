public import Foundation

/// Where the key service keeps its keys and aliases.
///
/// Every change of one operation arrives as one ``KeyStoreBatch`` that the store applies atomically, or not at all.
/// Each record carries a `revision`; a batch states the revision it expects every record it writes or deletes to
/// have in the store (`nil` for "must not exist yet") and the store refuses the whole batch with
/// ``KeyStoreConflict`` when one differs. The service then reads again and retries, so concurrent operations on one
/// key never lose an update. Key material inside records is already sealed under the root key.
public protocol KeyStore: Sendable {
    /// The key with this id, or `nil`.
    func key(id: String) async throws -> KeyRecord?
    /// The alias with this full name (`alias/…`), or `nil`.
    func alias(named name: String) async throws -> AliasRecord?
    /// Up to `limit` keys ordered by id, starting after the key id `marker`.
    func keys(after marker: String?, limit: Int) async throws -> [KeyRecord]
    /// Up to `limit` aliases ordered by name, starting after the alias name `marker`; only those of
    /// `targetKeyID` when given.
    func aliases(targeting targetKeyID: String?, after marker: String?, limit: Int) async throws -> [AliasRecord]
    /// Keys whose ``KeyRecord/nextMaintenanceDate`` is at or before `now`.
    func keysNeedingMaintenance(at now: Date) async throws -> [KeyRecord]
    /// Applies all changes of `batch` atomically.
    ///
    /// - Throws: ``KeyStoreConflict`` when a record's revision is not the expected one; nothing is applied then.
    func commit(_ batch: KeyStoreBatch) async throws
}

/// The changes of one operation.
public struct KeyStoreBatch: Sendable, Hashable {
    /// One change.
    public enum Change: Sendable, Hashable {
        /// Inserts or replaces a key whose stored revision is `expectedRevision` (`nil`: absent).
        case putKey(KeyRecord, expectedRevision: Int?)
        /// Deletes a key whose stored revision is `expectedRevision`, and every alias that targets it.
        case deleteKey(id: String, expectedRevision: Int)
        /// Inserts or replaces an alias whose stored revision is `expectedRevision` (`nil`: absent).
        case putAlias(AliasRecord, expectedRevision: Int?)
        /// Deletes an alias whose stored revision is `expectedRevision`.
        case deleteAlias(name: String, expectedRevision: Int)
    }

    public var changes: [Change]

    public init(_ changes: [Change] = []) { self.changes = changes }
}

/// A batch met a record whose revision was not the expected one.
public struct KeyStoreConflict: Error, Hashable, Sendable {
    public init() {}
}

/// A ``KeyStore`` in memory, for tests and ephemeral servers.
public actor InMemoryKeyStore: KeyStore {
    private var keyRecords: [String: KeyRecord] = [:]
    private var aliasRecords: [String: AliasRecord] = [:]

    public init() {}

    public func key(id: String) -> KeyRecord? { keyRecords[id] }

    public func alias(named name: String) -> AliasRecord? { aliasRecords[name] }

    public func keys(after marker: String?, limit: Int) -> [KeyRecord] {
        let ids = keyRecords.keys.sorted().filter { marker == nil || $0 > marker! }.prefix(limit)
        return ids.compactMap { keyRecords[$0] }
    }

    public func aliases(targeting targetKeyID: String?, after marker: String?, limit: Int) -> [AliasRecord] {
        let selected = aliasRecords.values
            .filter { targetKeyID == nil || $0.targetKeyID == targetKeyID }
            .filter { marker == nil || $0.name > marker! }
            .sorted { $0.name < $1.name }
        return Array(selected.prefix(limit))
    }

    public func keysNeedingMaintenance(at now: Date) -> [KeyRecord] {
        keyRecords.values.filter { ($0.nextMaintenanceDate ?? .distantFuture) <= now }.sorted { $0.id < $1.id }
    }

    public func commit(_ batch: KeyStoreBatch) throws {
        for change in batch.changes {
            switch change {
            case .putKey(let record, let expected):
                guard keyRecords[record.id]?.revision == expected else { throw KeyStoreConflict() }
            case .deleteKey(let id, let expected):
                guard keyRecords[id]?.revision == expected else { throw KeyStoreConflict() }
            case .putAlias(let record, let expected):
                guard aliasRecords[record.name]?.revision == expected else { throw KeyStoreConflict() }
            case .deleteAlias(let name, let expected):
                guard aliasRecords[name]?.revision == expected else { throw KeyStoreConflict() }
            }
        }
        for change in batch.changes {
            switch change {
            case .putKey(let record, _):
                keyRecords[record.id] = record
            case .deleteKey(let id, _):
                keyRecords[id] = nil
                aliasRecords = aliasRecords.filter { $0.value.targetKeyID != id }
            case .putAlias(let record, _):
                aliasRecords[record.name] = record
            case .deleteAlias(let name, _):
                aliasRecords[name] = nil
            }
        }
    }

    /// Every key record as stored, for tests that inspect what reached the store.
    public func allKeyRecords() -> [KeyRecord] { keyRecords.values.sorted { $0.id < $1.id } }
}
