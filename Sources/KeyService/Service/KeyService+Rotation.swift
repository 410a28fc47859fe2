public import Foundation
public import WireShapes

extension KeyService {
    /// On-demand rotations a key may have, as on AWS.
    static let maximumOnDemandRotations = 10

    /// `EnableKeyRotation`: automatic rotation every 90–2560 days (default 365).
    ///
    /// The first rotation is due one period after enabling; changing the period of a key that already rotates counts
    /// it from the newest material. - Throws: `DisabledException` when disabled, `KMSInvalidStateException` when
    /// pending deletion, `ValidationException` for a period outside 90–2560.
    public func enableKeyRotation(_ request: EnableKeyRotationRequest, caller: Caller) async throws -> EmptyResponse {
        let days = request.rotationPeriodInDays ?? 365
        guard days >= 90 else {
            throw KMSError.validation(
                value: "\(days)",
                member: "rotationPeriodInDays",
                constraint: "have value greater than or equal to 90"
            )
        }
        guard days <= 2560 else {
            throw KMSError.validation(
                value: "\(days)",
                member: "rotationPeriodInDays",
                constraint: "have value less than or equal to 2560"
            )
        }
        try await changeKey(
            request.keyId,
            operation: .enableKeyRotation,
            action: "kms:EnableKeyRotation",
            caller: caller
        ) { key, now in
            try requireUsable(key)
            let base = key.rotation.isEnabled ? (key.currentMaterial?.creationDate ?? now) : now
            key.rotation = RotationSettings(
                isEnabled: true,
                periodInDays: days,
                nextRotationDate: base.addingTimeInterval(TimeInterval(days) * 86_400)
            )
        }
        return EmptyResponse()
    }

    /// `DisableKeyRotation`. - Throws: `DisabledException` when disabled, `KMSInvalidStateException` when pending
    /// deletion.
    public func disableKeyRotation(_ request: DisableKeyRotationRequest, caller: Caller) async throws -> EmptyResponse {
        try await changeKey(
            request.keyId,
            operation: .disableKeyRotation,
            action: "kms:DisableKeyRotation",
            caller: caller
        ) { key, _ in
            try requireUsable(key)
            key.rotation = RotationSettings()
        }
        return EmptyResponse()
    }

    /// `GetKeyRotationStatus`, in any key state.
    public func getKeyRotationStatus(
        _ request: GetKeyRotationStatusRequest,
        caller: Caller
    ) async throws
        -> GetKeyRotationStatusResponse
    {
        let now = self.now()
        let key = try await resolve(
            request.keyId,
            accepting: IdentifierForms.accepted(by: .getKeyRotationStatus),
            at: now
        )
        try await authorize(caller, "kms:GetKeyRotationStatus", on: key, at: now)
        return GetKeyRotationStatusResponse(
            keyRotationEnabled: key.rotation.isEnabled,
            keyId: key.arn,
            rotationPeriodInDays: key.rotation.isEnabled ? key.rotation.periodInDays : nil,
            nextRotationDate: key.rotation.isEnabled ? key.rotation.nextRotationDate : nil
        )
    }

    /// `RotateKeyOnDemand`: a new key-material version at once; the automatic schedule is unchanged.
    ///
    /// - Throws: `DisabledException` when disabled, `KMSInvalidStateException` when pending deletion,
    ///   `LimitExceededException` after 10 on-demand rotations.
    public func rotateKeyOnDemand(_ request: RotateKeyOnDemandRequest, caller: Caller) async throws -> KeyIdResponse {
        let key = try await changeKey(
            request.keyId,
            operation: .rotateKeyOnDemand,
            action: "kms:RotateKeyOnDemand",
            caller: caller
        ) { key, now in
            try requireUsable(key)
            guard key.materials.count(where: { $0.origin == .onDemand }) < Self.maximumOnDemandRotations else {
                throw KMSError(
                    code: .limitExceededException,
                    message: "\(key.arn) has reached the limit of \(Self.maximumOnDemandRotations) on-demand rotations."
                )
            }
            try rotate(&key, origin: .onDemand, at: now)
        }
        return KeyIdResponse(keyId: key.arn)
    }

    /// `ListKeyRotations`: completed rotations oldest first (with `ALL_KEY_MATERIAL`, the first material too),
    /// `Limit` 1–1000 (default 100).
    public func listKeyRotations(
        _ request: ListKeyRotationsRequest,
        caller: Caller
    ) async throws
        -> ListKeyRotationsResponse
    {
        let limit = try Self.limit(request.limit, maximum: 1000, fallback: 100)
        let includeAll: Bool
        switch request.includeKeyMaterial {
        case nil, "ROTATIONS_ONLY": includeAll = false
        case "ALL_KEY_MATERIAL": includeAll = true
        case let other?:
            throw KMSError.validation(
                value: other,
                member: "includeKeyMaterial",
                constraint: "satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]"
            )
        }
        let now = self.now()
        let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .listKeyRotations), at: now)
        try await authorize(caller, "kms:ListKeyRotations", on: key, at: now)
        let current = key.currentMaterial?.version
        let entries = key.materials
            .filter { includeAll || $0.origin != .creation }
            .map { material in
                RotationsListEntry(
                    keyId: key.id,
                    keyMaterialId: material.materialID,
                    keyMaterialState: material.version == current ? "CURRENT" : "NON_CURRENT",
                    rotationDate: material.origin == .creation ? nil : material.creationDate,
                    rotationType: material.origin == .creation ? nil : material.origin.rawValue
                )
            }
        let page = try Self.page(entries, marker: request.marker, limit: limit)
        return ListKeyRotationsResponse(rotations: page.items, nextMarker: page.nextMarker, truncated: page.truncated)
    }

    /// What one maintenance pass did.
    public struct MaintenanceReport: Sendable, Hashable {
        /// Keys whose deletion window had passed: their records, material and aliases are destroyed.
        public var deletedKeyIDs: [String] = []
        /// Keys that got a new key-material version by automatic rotation.
        public var rotatedKeyIDs: [String] = []

        public init(deletedKeyIDs: [String] = [], rotatedKeyIDs: [String] = []) {
            self.deletedKeyIDs = deletedKeyIDs
            self.rotatedKeyIDs = rotatedKeyIDs
        }
    }

    /// A change one maintenance pass is about to make.
    public enum MaintenanceChange: Sendable, Hashable {
        /// The key's deletion window passed: its record, material and aliases are about to be destroyed.
        case delete(keyID: String)
        /// The key is about to get a new key-material version by automatic rotation.
        case rotate(keyID: String)
    }

    /// Destroys keys whose deletion window has passed and rotates enabled keys whose automatic rotation is due.
    ///
    /// The server's background service calls this periodically; it is a system action, not authorized per caller.
    /// A key changed concurrently is left for the next pass. Disabled keys do not rotate; once enabled again, a
    /// rotation that fell due meanwhile happens at the next pass.
    ///
    /// - Parameters:
    ///   - now: The time of the pass; the service's clock when `nil`.
    ///   - beforeChange: Called before each change is made (the server writes its audit record there); when it
    ///     throws, that change is not made and the pass stops with its error.
    public func runMaintenance(
        now: Date? = nil,
        beforeChange: @Sendable (MaintenanceChange) async throws -> Void = { _ in }
    ) async throws -> MaintenanceReport {
        let now = now ?? self.now()
        var report = MaintenanceReport()
        for key in try await store.keysNeedingMaintenance(at: now) {
            do {
                if Self.isDestroyed(key, at: now) {
                    try await beforeChange(.delete(keyID: key.id))
                    try await store.commit(KeyStoreBatch([.deleteKey(id: key.id, expectedRevision: key.revision)]))
                    report.deletedKeyIDs.append(key.id)
                } else if key.state == .enabled, key.rotation.isEnabled,
                    let due = key.rotation.nextRotationDate, due <= now
                {
                    var rotated = key
                    try rotate(&rotated, origin: .automatic, at: now)
                    let days = TimeInterval(key.rotation.periodInDays ?? 365)
                    rotated.rotation.nextRotationDate = now.addingTimeInterval(days * 86_400)
                    try await beforeChange(.rotate(keyID: key.id))
                    try await store.commit(KeyStoreBatch([Self.put(rotated)]))
                    report.rotatedKeyIDs.append(key.id)
                }
            } catch is KeyStoreConflict {
                continue
            }
        }
        return report
    }

    /// Appends a new key-material version.
    func rotate(_ key: inout KeyRecord, origin: SealedMaterial.Origin, at now: Date) throws {
        let version = (key.currentMaterial?.version ?? 0) + 1
        key.materials.append(try newMaterial(keyID: key.id, version: version, origin: origin, at: now))
    }
}
