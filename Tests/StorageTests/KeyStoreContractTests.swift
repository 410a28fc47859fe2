import AccessControl
import Foundation
import KMS
import KeyService
import Storage
import Testing

/// The `KeyStore` contract of the key service, run against every store in ``KeyStoreKind/all``: the behaviour
/// `InMemoryKeyStore` defines is what every other store must show.
struct KeyStoreContractTests {
    @Test(arguments: KeyStoreKind.all)
    func anEmptyStoreHasNothing(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.key(id: "k") == nil)
            #expect(try await store.alias(named: "alias/x") == nil)
            #expect(try await store.keys(after: nil, limit: 10).isEmpty)
            #expect(try await store.aliases(targeting: nil, after: nil, limit: 10).isEmpty)
            #expect(try await store.keysNeedingMaintenance(at: .distantPast).isEmpty)
            try await store.commit(KeyStoreBatch())
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func recordsRoundTripExactly(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let key = keyRecord(
                "k1",
                state: .pendingDeletion,
                deletionDate: referenceDate.addingTimeInterval(7 * 86_400 + 0.001),
                rotation: RotationSettings(
                    isEnabled: true,
                    periodInDays: 90,
                    nextRotationDate: referenceDate.addingTimeInterval(1e-6)
                ),
                materials: 3
            )
            let bare = KeyRecord(
                id: "k2",
                arn: "arn",
                keyDescription: "",
                creationDate: Date(timeIntervalSinceReferenceDate: 0),
                state: .disabled,
                policy: "",
                materials: [],
                revision: 0
            )
            let alias = aliasRecord("alias/one", target: "k1")
            try await store.commit(
                KeyStoreBatch([
                    .putKey(key, expectedRevision: nil), .putKey(bare, expectedRevision: nil),
                    .putAlias(alias, expectedRevision: nil),
                ])
            )
            #expect(try await store.key(id: "k1") == key)
            #expect(try await store.key(id: "k2") == bare)
            #expect(try await store.alias(named: "alias/one") == alias)
            #expect(try await store.key(id: "K1") == nil)
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func putKeyChecksTheExpectedRevision(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let first = keyRecord("k", revision: 1)
            try await store.commit(KeyStoreBatch([.putKey(first, expectedRevision: nil)]))
            var second = first
            second.keyDescription = "second"
            second.revision = 2
            // Already exists; stale revision; future revision.
            for expected in [nil, 0, 2] as [Int?] {
                await #expect(throws: KeyStoreConflict()) {
                    try await store.commit(KeyStoreBatch([.putKey(second, expectedRevision: expected)]))
                }
            }
            #expect(try await store.key(id: "k") == first)
            try await store.commit(KeyStoreBatch([.putKey(second, expectedRevision: 1)]))
            #expect(try await store.key(id: "k") == second)
            // An absent key must be expected absent.
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(KeyStoreBatch([.putKey(keyRecord("new"), expectedRevision: 0)]))
            }
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func aBatchIsAppliedWhollyOrNotAtAll(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let key = keyRecord("k")
            try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
            var changed = key
            changed.revision = 2
            changed.state = .disabled
            // Valid changes first, one stale change last: nothing of the batch lands.
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(
                    KeyStoreBatch([
                        .putAlias(aliasRecord("alias/a", target: "k"), expectedRevision: nil),
                        .putKey(changed, expectedRevision: 1),
                        .putKey(keyRecord("other"), expectedRevision: nil),
                        .deleteAlias(name: "alias/missing", expectedRevision: 1),
                    ])
                )
            }
            #expect(try await store.key(id: "k") == key)
            #expect(try await store.key(id: "other") == nil)
            #expect(try await store.alias(named: "alias/a") == nil)
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func revisionsAreCheckedAgainstTheStateBeforeTheBatch(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            var next = keyRecord("k", revision: 2)
            next.keyDescription = "next"
            // The second change expects what the first would write: the store checks against its state before the
            // batch, where "k" does not exist, so the batch conflicts.
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(
                    KeyStoreBatch([.putKey(keyRecord("k"), expectedRevision: nil), .putKey(next, expectedRevision: 1)])
                )
            }
            #expect(try await store.key(id: "k") == nil)
            // Two changes of one record that both expect the stored state apply in order: the last one wins.
            try await store.commit(
                KeyStoreBatch([.putKey(keyRecord("k"), expectedRevision: nil), .putKey(next, expectedRevision: nil)])
            )
            #expect(try await store.key(id: "k") == next)
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func deletingAKeyDeletesItsAliasesAndMaterial(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            try await store.commit(
                KeyStoreBatch([
                    .putKey(keyRecord("k", materials: 2), expectedRevision: nil),
                    .putKey(keyRecord("other"), expectedRevision: nil),
                    .putAlias(aliasRecord("alias/a", target: "k"), expectedRevision: nil),
                    .putAlias(aliasRecord("alias/b", target: "k"), expectedRevision: nil),
                    .putAlias(aliasRecord("alias/c", target: "other"), expectedRevision: nil),
                ])
            )
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(KeyStoreBatch([.deleteKey(id: "k", expectedRevision: 2)]))
            }
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(KeyStoreBatch([.deleteKey(id: "missing", expectedRevision: 1)]))
            }
            try await store.commit(KeyStoreBatch([.deleteKey(id: "k", expectedRevision: 1)]))
            #expect(try await store.key(id: "k") == nil)
            #expect(try await store.alias(named: "alias/a") == nil)
            #expect(try await store.alias(named: "alias/b") == nil)
            #expect(try await store.alias(named: "alias/c")?.targetKeyID == "other")
            #expect(try await store.keys(after: nil, limit: 10).map(\.id) == ["other"])
            // A key created again under the same id starts without the old material.
            let reborn = KeyRecord(
                id: "k",
                arn: "arn",
                keyDescription: "",
                creationDate: referenceDate,
                state: .enabled,
                policy: "{}",
                materials: [],
                revision: 1
            )
            try await store.commit(KeyStoreBatch([.putKey(reborn, expectedRevision: nil)]))
            #expect(try await store.key(id: "k")?.materials == [])
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func aliasesFollowTheirRevisions(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let alias = aliasRecord("alias/x", target: "k1")
            try await store.commit(KeyStoreBatch([.putAlias(alias, expectedRevision: nil)]))
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(KeyStoreBatch([.putAlias(alias, expectedRevision: nil)]))
            }
            var moved = alias
            moved.targetKeyID = "k2"
            moved.revision = 2
            moved.lastUpdatedDate = referenceDate.addingTimeInterval(60.5)
            try await store.commit(KeyStoreBatch([.putAlias(moved, expectedRevision: 1)]))
            #expect(try await store.alias(named: "alias/x") == moved)
            #expect(try await store.aliases(targeting: "k1", after: nil, limit: 10).isEmpty)
            await #expect(throws: KeyStoreConflict()) {
                try await store.commit(KeyStoreBatch([.deleteAlias(name: "alias/x", expectedRevision: 1)]))
            }
            try await store.commit(KeyStoreBatch([.deleteAlias(name: "alias/x", expectedRevision: 2)]))
            #expect(try await store.alias(named: "alias/x") == nil)
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func keysPageInIdentifierOrder(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let ids = ["b", "a", "e", "c", "d", "a-1", "B"]
            try await store.commit(
                KeyStoreBatch(ids.map { .putKey(keyRecord($0, materials: 2), expectedRevision: nil) })
            )
            var seen: [String] = []
            var marker: String? = nil
            while true {
                let page = try await store.keys(after: marker, limit: 2)
                #expect(page.count <= 2)
                seen += page.map(\.id)
                guard page.count == 2, let last = page.last else { break }
                marker = last.id
                #expect(page.allSatisfy { $0.materials.count == 2 })
            }
            #expect(seen == ids.sorted())
            #expect(try await store.keys(after: nil, limit: 0).isEmpty)
            #expect(try await store.keys(after: "e", limit: 5).isEmpty)
            #expect(try await store.keys(after: "bb", limit: 1).map(\.id) == ["c"])
            #expect(try await store.keys(after: nil, limit: 100) == ids.sorted().map { keyRecord($0, materials: 2) })
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func aliasesPageByNameAndFilterByTarget(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let aliases = [
                aliasRecord("alias/d", target: "k1"), aliasRecord("alias/a", target: "k2"),
                aliasRecord("alias/c", target: "k1"), aliasRecord("alias/b", target: "k1"),
                aliasRecord("alias/e", target: "k2"),
            ]
            try await store.commit(KeyStoreBatch(aliases.map { .putAlias($0, expectedRevision: nil) }))
            #expect(
                try await store.aliases(targeting: nil, after: nil, limit: 10).map(\.name)
                    == ["alias/a", "alias/b", "alias/c", "alias/d", "alias/e"]
            )
            #expect(
                try await store.aliases(targeting: nil, after: "alias/b", limit: 2).map(\.name)
                    == ["alias/c", "alias/d"]
            )
            #expect(
                try await store.aliases(targeting: "k1", after: nil, limit: 10).map(\.name)
                    == ["alias/b", "alias/c", "alias/d"]
            )
            #expect(try await store.aliases(targeting: "k1", after: "alias/c", limit: 1).map(\.name) == ["alias/d"])
            #expect(try await store.aliases(targeting: "k3", after: nil, limit: 10).isEmpty)
            #expect(try await store.aliases(targeting: nil, after: nil, limit: 0).isEmpty)
            #expect(try await store.aliases(targeting: "k2", after: nil, limit: 10) == [aliases[1], aliases[4]])
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func keysNeedingMaintenanceAreThoseDueByTheirNextMaintenanceDate(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let now = referenceDate.addingTimeInterval(30 * 86_400)
            let records = [
                // Due: deletion window passed, exactly now, rotation due.
                keyRecord("deleting-past", state: .pendingDeletion, deletionDate: now.addingTimeInterval(-1)),
                keyRecord("deleting-now", state: .pendingDeletion, deletionDate: now),
                keyRecord(
                    "rotating-due",
                    rotation: RotationSettings(
                        isEnabled: true,
                        periodInDays: 90,
                        nextRotationDate: now.addingTimeInterval(-0.001)
                    )
                ),
                // Not due: in the future, rotation off, disabled keys do not rotate, nothing scheduled.
                keyRecord("deleting-later", state: .pendingDeletion, deletionDate: now.addingTimeInterval(0.001)),
                keyRecord(
                    "rotating-later",
                    rotation: RotationSettings(
                        isEnabled: true,
                        periodInDays: 90,
                        nextRotationDate: now.addingTimeInterval(1)
                    )
                ),
                keyRecord(
                    "rotation-off",
                    rotation: RotationSettings(
                        isEnabled: false,
                        periodInDays: 90,
                        nextRotationDate: now.addingTimeInterval(-1)
                    )
                ),
                keyRecord(
                    "disabled",
                    state: .disabled,
                    rotation: RotationSettings(
                        isEnabled: true,
                        periodInDays: 90,
                        nextRotationDate: now.addingTimeInterval(-1)
                    )
                ),
                keyRecord("plain"),
            ]
            try await store.commit(KeyStoreBatch(records.reversed().map { .putKey($0, expectedRevision: nil) }))
            let due = try await store.keysNeedingMaintenance(at: now)
            #expect(due.map(\.id) == ["deleting-now", "deleting-past", "rotating-due"])
            #expect(due.first == records[1])
            #expect(try await store.keysNeedingMaintenance(at: referenceDate).isEmpty)
            // `InMemoryKeyStore` reads "no date" as `.distantFuture`, so at that instant every key is due.
            #expect(
                try await store.keysNeedingMaintenance(at: .distantFuture).map(\.id) == records.map(\.id).sorted()
            )

            // A change of state moves a key in or out of the due set.
            var enabled = records[6]
            enabled.state = .enabled
            enabled.revision = 2
            var cancelled = records[0]
            cancelled.state = .disabled
            cancelled.deletionDate = nil
            cancelled.revision = 2
            try await store.commit(
                KeyStoreBatch([.putKey(enabled, expectedRevision: 1), .putKey(cancelled, expectedRevision: 1)])
            )
            #expect(
                try await store.keysNeedingMaintenance(at: now).map(\.id) == [
                    "deleting-now", "disabled", "rotating-due",
                ]
            )
        }
    }

    @Test(arguments: KeyStoreKind.all)
    func materialVersionsGrowAndShrinkWithTheRecord(kind: KeyStoreKind) async throws {
        try await kind.withStore { store in
            let one = keyRecord("k", revision: 1, materials: 1)
            try await store.commit(KeyStoreBatch([.putKey(one, expectedRevision: nil)]))
            let three = keyRecord("k", revision: 2, materials: 3)
            try await store.commit(KeyStoreBatch([.putKey(three, expectedRevision: 1)]))
            #expect(try await store.key(id: "k") == three)
            var reordered = keyRecord("k", revision: 3, materials: 2)
            reordered.materials.reverse()
            reordered.materials[0].sealed = Data([1, 2, 3])
            try await store.commit(KeyStoreBatch([.putKey(reordered, expectedRevision: 2)]))
            #expect(try await store.key(id: "k") == reordered)
        }
    }
}
