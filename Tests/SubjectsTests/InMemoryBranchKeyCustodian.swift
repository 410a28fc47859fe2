import Subjects

/// A ``Subjects/BranchKeyCustodian`` that keeps branch keys as entries in memory, each with the three keystore items
/// a new branch key has (its version, the active item, the beacon key): for tests of the subject service and its
/// routes, where the keystore itself is not what is tested. A destroy can be made to fail once.
actor InMemoryBranchKeyCustodian: BranchKeyCustodian {
    /// A branch key as it was created.
    struct BranchKey: Sendable, Hashable {
        var kmsKeyARN: String
        var encryptionContext: [String: String]
        /// Keystore items: versions, the active item, the beacon key.
        var items: Int
    }

    /// Why a destroy failed.
    struct Failure: Error, Hashable {
        var branchKeyID: String
    }

    nonisolated let keyStore = KeyStoreName(
        tableName: "sealed-branch-keys",
        logicalKeyStoreName: "sealed-branch-keys"
    )
    /// The branch keys that exist, by id.
    private(set) var keys: [String: BranchKey] = [:]
    /// Every create call's id, in order (a repeated id included).
    private(set) var creations: [String] = []
    private var failingDestroys: Set<String> = []

    init() {}

    func createBranchKey(id: String, kmsKeyARN: String, encryptionContext: [String: String]) {
        creations.append(id)
        if keys[id] == nil {
            keys[id] = BranchKey(kmsKeyARN: kmsKeyARN, encryptionContext: encryptionContext, items: 3)
        }
    }

    func destroyBranchKey(id: String, kmsKeyARN: String) throws -> Int {
        if failingDestroys.remove(id) != nil { throw Failure(branchKeyID: id) }
        return keys.removeValue(forKey: id)?.items ?? 0
    }

    /// The next destroy of `id` fails (with ``Failure``), later ones do not.
    func failNextDestroy(of id: String) { failingDestroys.insert(id) }

    /// Adds a version to the branch key `id` (one more keystore item), as `VersionKey` does.
    func version(_ id: String) { keys[id]?.items += 1 }
}
