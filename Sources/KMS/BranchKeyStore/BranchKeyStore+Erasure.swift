import Foundation

extension BranchKeyStore {
    /// Destroys a branch key: deletes every record of its partition (every version, the ACTIVE copy, the beacon key,
    /// and any other item under that id), so that nothing wrapped under it can be opened again (crypto-shredding).
    ///
    /// The partition is read with strongly consistent `Query`s (every page) and each item deleted with `DeleteItem`,
    /// the ACTIVE record first so that no new message is sealed under the key while the rest goes. The partition is
    /// read again until it is empty, so a version written concurrently is destroyed too. Calling it again is
    /// harmless: a destroyed or unknown branch key yields 0.
    ///
    /// - Parameter id: The branch key id.
    /// - Returns: How many items this call deleted.
    /// - Throws: ``BranchKeyStoreError`` `invalidArgument` for an empty id, `conflict` when the partition is still
    ///   not empty after several rounds (a writer keeps adding versions); ``DynamoDBError``, ``ClientError``.
    @discardableResult
    public func destroyBranchKey(id: String) async throws -> Int {
        guard !id.isEmpty else { throw BranchKeyStoreError(.invalidArgument, "the branch key id is empty") }
        var deleted = 0
        for _ in 0..<Self.destroyRounds {
            let types = try await sortKeys(of: id)
            if types.isEmpty { return deleted }
            let ordered = types.filter { $0 == KeystoreRecordFormat.activeType }
                + types.filter { $0 != KeystoreRecordFormat.activeType }
            for type in ordered {
                let response = try await dynamoDB.send(
                    DynamoDBDeleteItemRequest(
                        tableName: tableName,
                        key: [KeystoreRecordFormat.branchKeyID: .string(id), KeystoreRecordFormat.type: .string(type)],
                        returnValues: "ALL_OLD"
                    )
                )
                // Another eraser may have deleted it first: count only what this call removed.
                if let old = response.attributes, !old.isEmpty { deleted += 1 }
            }
        }
        guard try await sortKeys(of: id).isEmpty else {
            throw BranchKeyStoreError(
                .conflict,
                "the branch key \"\(id)\" still has items after \(Self.destroyRounds) rounds of deletion"
            )
        }
        return deleted
    }

    /// The versions of a branch key present in the table (its `branch:version:<uuid>` records), in the table's
    /// sort order; empty when the branch key does not exist or was destroyed.
    ///
    /// - Parameter id: The branch key id.
    /// - Returns: The version UUIDs, lower-case.
    /// - Throws: ``BranchKeyStoreError`` `malformedItem` for a version record whose version is not a UUID;
    ///   ``DynamoDBError``, ``ClientError``.
    public func versions(of id: String) async throws -> [String] {
        guard !id.isEmpty else { throw BranchKeyStoreError(.invalidArgument, "the branch key id is empty") }
        let prefix = KeystoreRecordFormat.versionTypePrefix
        var versions: [String] = []
        for type in try await sortKeys(of: id) where type.hasPrefix(prefix) {
            guard let uuid = UUID(uuidString: String(type.dropFirst(prefix.count))) else {
                throw BranchKeyStoreError(.malformedItem, "the branch key \"\(id)\" has an item of type \"\(type)\"")
            }
            versions.append(uuid.lowercasedString)
        }
        return versions
    }

    /// How many query-and-delete rounds ``destroyBranchKey(id:)`` makes before it gives up on a partition that keeps
    /// filling.
    static var destroyRounds: Int { 4 }

    /// The `type` of every item of a partition: consistent `Query`s of the key attributes, every page.
    private func sortKeys(of id: String) async throws -> [String] {
        var types: [String] = []
        var start: DynamoDBItem? = nil
        repeat {
            let page = try await dynamoDB.send(
                DynamoDBQueryRequest(
                    tableName: tableName,
                    keyConditionExpression: "#pk = :pk",
                    expressionAttributeNames: ["#pk": KeystoreRecordFormat.branchKeyID],
                    expressionAttributeValues: [":pk": .string(id)],
                    consistentRead: true,
                    exclusiveStartKey: start
                )
            )
            for item in page.items ?? [] {
                guard let type = item[KeystoreRecordFormat.type]?.stringValue else {
                    throw BranchKeyStoreError(.malformedItem, "an item of the branch key \"\(id)\" has no string type")
                }
                types.append(type)
            }
            start = page.lastEvaluatedKey.flatMap { $0.isEmpty ? nil : $0 }
        } while start != nil
        return types
    }
}
