public import Crypto
public import Foundation
internal import SealedSupport
internal import WireShapes

/// The key service: AWS KMS's symmetric-key operations over a ``KeyStore``, behind an ``Authorizer``.
///
/// One async method per KMS operation, taking and returning the wire shapes of the `KMS` module, so an HTTP layer
/// only decodes a body, calls the method with the authenticated ``Caller`` and encodes the answer. Failures are
/// ``KMS/KMSError``s with AWS's codes and message shapes.
///
/// Every operation first validates its input, then resolves the key it names (see ``IdentifierForms``), then asks
/// the ``Authorizer``, then checks the key's state, and only then acts. Changes reach the store as one atomic
/// ``KeyStoreBatch`` per operation, retried on ``KeyStoreConflict``. Key material reaches the store sealed under the
/// root key and never appears in a description, a log or an error.
///
/// The service holds no mutable state of its own, so it is a `Sendable` struct and its methods run on the caller's
/// executor; the store serialises changes.
public struct KeyService: Sendable {
    /// Where the service lives: the partition, region and account of its ARNs.
    public struct Configuration: Sendable, Hashable {
        public var partition: String
        public var region: String
        public var accountID: String

        public init(region: String = "us-east-1", accountID: String = "000000000000", partition: String = "aws") {
            self.partition = partition
            self.region = region
            self.accountID = accountID
        }

        /// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`.
        public func keyARN(_ keyID: String) -> String { "arn:\(partition):kms:\(region):\(accountID):key/\(keyID)" }

        /// `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME` for the full alias name `alias/NAME`.
        public func aliasARN(_ aliasName: String) -> String {
            "arn:\(partition):kms:\(region):\(accountID):\(aliasName)"
        }

        /// The key policy of a key created without one: the account's identity policies decide
        /// (AWS's default key policy).
        public var defaultKeyPolicy: String {
            """
            {"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions",\
            "Effect":"Allow","Principal":{"AWS":"arn:\(partition):iam::\(accountID):root"},"Action":"kms:*",\
            "Resource":"*"}]}
            """
        }
    }

    public let configuration: Configuration
    let store: any KeyStore
    let authorizer: any Authorizer
    let sealer: MaterialSealer
    let now: @Sendable () -> Date

    /// Creates a key service.
    ///
    /// - Parameters:
    ///   - configuration: The region and account of the service's ARNs.
    ///   - store: Where keys and aliases live.
    ///   - rootKey: The 256-bit key that seals all key material at rest.
    ///   - authorizer: Decides every request.
    ///   - now: The wall clock: AWS timestamps, deletion windows and rotation dates come from it.
    /// - Throws: ``KMS/KMSError`` `KMSInternalException` when `rootKey` is not 256 bits.
    public init(
        configuration: Configuration = Configuration(),
        store: any KeyStore,
        rootKey: SymmetricKey,
        authorizer: any Authorizer,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard rootKey.bitCount == 256 else {
            throw KMSError(code: .kmsInternalException, message: "The root key must be 256 bits.")
        }
        self.configuration = configuration
        self.store = store
        self.authorizer = authorizer
        self.sealer = MaterialSealer(rootKey: rootKey)
        self.now = now
    }

    // MARK: - Resolution

    /// Resolves a key identifier to the key it names.
    ///
    /// - Throws: `ValidationException` for an empty or over-long identifier; `NotFoundException` for a form the
    ///   operation does not accept, an unknown key or alias, or a key whose deletion window has passed.
    func resolve(
        _ identifier: String,
        accepting forms: IdentifierForms,
        member: String = "keyId",
        at now: Date
    ) async throws -> KeyRecord {
        guard !identifier.isEmpty else {
            throw KMSError.validation(
                value: identifier,
                member: member,
                constraint: "have length greater than or equal to 1"
            )
        }
        guard identifier.utf8.count <= 2048 else {
            throw KMSError.validation(
                value: identifier,
                member: member,
                constraint: "have length less than or equal to 2048"
            )
        }
        guard let parsed = KeyIdentifier(identifier, in: configuration), forms.contains(parsed.form) else {
            throw KMSError.invalidKeyID(identifier)
        }
        let keyID: String
        switch parsed {
        case .keyID(let id), .keyARN(let id):
            guard !id.isEmpty else { throw KMSError.keyNotFound(arn: identifier) }
            keyID = id
        case .aliasName(let name), .aliasARN(let name):
            guard !name.isEmpty else { throw KMSError.aliasNotFound(arn: identifier) }
            guard let alias = try await store.alias(named: name) else {
                throw KMSError.aliasNotFound(arn: configuration.aliasARN(name))
            }
            keyID = alias.targetKeyID
        }
        guard let key = try await store.key(id: keyID), !Self.isDestroyed(key, at: now) else {
            throw KMSError.keyNotFound(arn: configuration.keyARN(keyID))
        }
        return key
    }

    /// Whether a key's deletion window has passed: it is gone, whether or not maintenance has removed it yet.
    static func isDestroyed(_ key: KeyRecord, at now: Date) -> Bool {
        key.state == .pendingDeletion && (key.deletionDate ?? .distantFuture) <= now
    }

    // MARK: - Authorization

    /// Asks the authorizer; anything but `.allow` is an `AccessDeniedException`.
    func authorize(
        _ caller: Caller,
        action: String,
        resource: String,
        key: KeyRecord?,
        encryptionContext: [String: String]? = nil,
        at now: Date
    ) async throws {
        let request = AuthorizationRequest(
            principal: caller.principal,
            action: action,
            resource: resource,
            context: AuthorizationContext(
                encryptionContext: encryptionContext,
                sourceIP: caller.sourceIP,
                currentTime: now,
                callerAccount: caller.account,
                keyPolicy: key?.policy
            )
        )
        switch await authorizer.authorize(request) {
        case .allow:
            return
        case .explicitDeny:
            throw KMSError.accessDenied(principal: caller.principal, action: action, resource: resource, explicit: true)
        case .implicitDeny:
            throw KMSError.accessDenied(
                principal: caller.principal,
                action: action,
                resource: resource,
                explicit: false
            )
        }
    }

    /// Authorizes `action` on the key `key`.
    func authorize(
        _ caller: Caller,
        _ action: String,
        on key: KeyRecord,
        encryptionContext: [String: String]? = nil,
        at now: Date
    )
        async throws
    {
        try await authorize(
            caller,
            action: action,
            resource: key.arn,
            key: key,
            encryptionContext: encryptionContext,
            at: now
        )
    }

    // MARK: - State rules

    /// Cryptographic use: `DisabledException` when disabled, `KMSInvalidStateException` when pending deletion.
    func requireUsable(_ key: KeyRecord) throws {
        switch key.state {
        case .enabled: return
        case .disabled: throw KMSError.keyDisabled(arn: key.arn)
        case .pendingDeletion: throw KMSError.keyPendingDeletion(arn: key.arn)
        default: throw KMSError(code: .kmsInvalidStateException, message: "\(key.arn) is \(key.state).")
        }
    }

    /// Management changes: `KMSInvalidStateException` when pending deletion.
    func requireNotPendingDeletion(_ key: KeyRecord) throws {
        if key.state == .pendingDeletion { throw KMSError.keyPendingDeletion(arn: key.arn) }
    }

    // MARK: - Changes

    /// Runs `body` (read, authorize, decide) and commits the batch it returns, again from the start when the store
    /// reports a conflict.
    func committing<T>(_ body: () async throws -> (KeyStoreBatch, T)) async throws -> T {
        for _ in 0..<100 {
            let (batch, result) = try await body()
            if batch.changes.isEmpty { return result }
            do {
                try await store.commit(batch)
                return result
            } catch is KeyStoreConflict {
                continue
            }
        }
        throw KMSError(
            code: .kmsInternalException,
            message: "The request conflicted with concurrent changes; retry it."
        )
    }

    /// `record` with its revision bumped, ready for `.putKey`.
    static func put(_ record: KeyRecord) -> KeyStoreBatch.Change {
        var next = record
        next.revision += 1
        return .putKey(next, expectedRevision: record.revision)
    }

    // MARK: - Material

    /// A new random 256-bit key-material version, sealed under the root key.
    func newMaterial(
        keyID: String,
        version: UInt32,
        origin: SealedMaterial.Origin,
        at date: Date
    ) throws -> SealedMaterial {
        let material = SymmetricKey(size: .bits256)
        let sealed: Data
        do {
            sealed = try sealer.seal(material, keyID: keyID, version: version)
        } catch {
            throw KMSError(code: .kmsInternalException, message: "Key material could not be sealed.")
        }
        return SealedMaterial(
            version: version,
            materialID: Random.hex(byteCount: 32),
            creationDate: date,
            origin: origin,
            sealed: sealed
        )
    }

    /// Opens a sealed material; a failure means the root key is wrong or the record was altered.
    func openMaterial(_ material: SealedMaterial, of key: KeyRecord) throws -> SymmetricKey {
        do {
            return try sealer.open(material.sealed, keyID: key.id, version: material.version)
        } catch {
            throw KMSError(code: .kmsInternalException, message: "Key material of \(key.arn) could not be unsealed.")
        }
    }

    // MARK: - Shapes

    /// The `KeyMetadata` of a key.
    func metadata(of key: KeyRecord) -> KeyMetadata {
        KeyMetadata(
            awsAccountId: configuration.accountID,
            keyId: key.id,
            arn: key.arn,
            creationDate: key.creationDate,
            enabled: key.state == .enabled,
            description: key.keyDescription,
            keyUsage: key.keyUsage,
            keyState: key.state,
            deletionDate: key.state == .pendingDeletion ? key.deletionDate : nil,
            origin: key.origin,
            keyManager: .customer,
            customerMasterKeySpec: key.keySpec,
            keySpec: key.keySpec,
            encryptionAlgorithms: [.symmetricDefault],
            multiRegion: false,
            currentKeyMaterialId: key.currentMaterial?.materialID
        )
    }

    /// Validates an optional `Limit` against `1...maximum`, returning `fallback` when absent.
    static func limit(_ limit: Int?, maximum: Int, fallback: Int) throws -> Int {
        guard let limit else { return fallback }
        guard limit >= 1 else {
            throw KMSError.validation(
                value: "\(limit)",
                member: "limit",
                constraint: "have value greater than or equal to 1"
            )
        }
        guard limit <= maximum else {
            throw KMSError.validation(
                value: "\(limit)",
                member: "limit",
                constraint: "have value less than or equal to \(maximum)"
            )
        }
        return limit
    }
}

extension KeyService: CustomStringConvertible, CustomReflectable {
    /// Names the region and account only: the root key never prints.
    public var description: String { "KeyService(\(configuration.region), account \(configuration.accountID))" }
    public var customMirror: Mirror { Mirror(self, children: ["configuration": configuration]) }
}
