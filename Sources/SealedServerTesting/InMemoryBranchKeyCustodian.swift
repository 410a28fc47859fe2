public import Subjects

/// A ``Subjects/BranchKeyCustodian`` that keeps branch keys as entries in memory, each with the three keystore items
/// a new branch key has (its version, the active item, the beacon key): for tests of the subject service and its
/// routes, where the keystore itself is not what is tested. A destroy can be made to fail once.
public actor InMemoryBranchKeyCustodian: BranchKeyCustodian {
    /// A branch key as it was created.
    public struct BranchKey: Sendable, Hashable {
        public var kmsKeyARN: String
        public var encryptionContext: [String: String]
        /// Keystore items: versions, the active item, the beacon key.
        public var items: Int
    }

    /// Why a destroy failed.
    public struct Failure: Error, Hashable {
        public var branchKeyID: String
    }

    public nonisolated let keyStore = KeyStoreName(
        tableName: "sealed-branch-keys",
        logicalKeyStoreName: "sealed-branch-keys"
    )
    /// The branch keys that exist, by id.
    public private(set) var keys: [String: BranchKey] = [:]
    /// Every create call's id, in order (a repeated id included).
    public private(set) var creations: [String] = []
    private var failingDestroys: Set<String> = []

    public init() {}

    public func createBranchKey(id: String, kmsKeyARN: String, encryptionContext: [String: String]) {
        creations.append(id)
        if keys[id] == nil {
            keys[id] = BranchKey(kmsKeyARN: kmsKeyARN, encryptionContext: encryptionContext, items: 3)
        }
    }

    public func destroyBranchKey(id: String, kmsKeyARN: String) throws -> Int {
        if failingDestroys.remove(id) != nil { throw Failure(branchKeyID: id) }
        return keys.removeValue(forKey: id)?.items ?? 0
    }

    /// The next destroy of `id` fails (with ``Failure``), later ones do not.
    public func failNextDestroy(of id: String) { failingDestroys.insert(id) }

    /// Adds a version to the branch key `id` (one more keystore item), as `VersionKey` does.
    public func version(_ id: String) { keys[id]?.items += 1 }
}
