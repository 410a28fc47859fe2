import KMS
package import KeyService
import Subjects
package import Tables
package import WireShapes

/// The platform's branch keystore custodian: the KMS module's ``KMS/BranchKeyStore`` — the same client producers,
/// readers and the official SDKs use — over the platform's own DynamoDB tables and key service, called in process as
/// the administrator. The keystore table (`sealed-branch-keys`) is created with the first branch key.
///
/// Calls made here do not pass the HTTP edge: the subject service's own audit records (resolve, erase) are their
/// trace, holding the branch key ids and the counts.
actor PlatformBranchKeys: BranchKeyCustodian {
    nonisolated let keyStore: KeyStoreName
    private let dynamoDB: InProcessDynamoDB
    private let kms: InProcessKMS
    private var tableReady = false

    init(keyStore: KeyStoreName, tables: TableService, keyService: KeyService, administrator: String) {
        self.keyStore = keyStore
        self.dynamoDB = InProcessDynamoDB(tables: tables, caller: administrator)
        self.kms = InProcessKMS(keyService: keyService, caller: Caller(principal: administrator))
    }

    func createBranchKey(id: String, kmsKeyARN: String, encryptionContext: [String: String]) async throws {
        let store = try await ready(kmsKeyARN)
        do {
            try await store.createKey(branchKeyID: id, encryptionContext: encryptionContext)
        } catch let error as BranchKeyStoreError where error.code == .conflict {
            // Already there (a crash between creating and recording it): the key the subject service wants exists.
        }
    }

    func destroyBranchKey(id: String, kmsKeyARN: String) async throws -> Int {
        try await ready(kmsKeyARN).destroyBranchKey(id: id)
    }

    /// The keystore of one domain key, its table created first if this process has not seen it yet.
    private func ready(_ kmsKeyARN: String) async throws -> BranchKeyStore {
        let store = try BranchKeyStore(
            tableName: keyStore.tableName,
            logicalKeyStoreName: keyStore.logicalKeyStoreName,
            kmsKeyARN: kmsKeyARN,
            dynamoDB: dynamoDB,
            kms: kms
        )
        if !tableReady {
            try await store.createKeyStore()
            tableReady = true
        }
        return store
    }
}

/// The platform's table service as a ``KMS/DynamoDBAPI``: each request goes to the service as the given caller,
/// and its errors come back as the ``KMS/DynamoDBError``s a remote DynamoDB would answer.
package struct InProcessDynamoDB: DynamoDBAPI {
    let tables: TableService
    let caller: String

    package init(tables: TableService, caller: String) {
        self.tables = tables
        self.caller = caller
    }

    package func send<Request: DynamoDBRequest>(_ request: Request) async throws -> Request.Response {
        do {
            return try await tables.perform(request, caller: caller)
        } catch let error as TableError {
            throw DynamoDBError(error.shape, statusCode: 400)
        }
    }
}

/// The platform's key service as a ``KMS/KMSAPI`` for the operations a branch keystore calls, as the given caller;
/// its errors are already ``KMS/KMSError``s.
package struct InProcessKMS: KMSAPI {
    let keyService: KeyService
    let caller: Caller

    package init(keyService: KeyService, caller: Caller) {
        self.keyService = keyService
        self.caller = caller
    }

    package func send<Request: KMSRequest>(_ request: Request) async throws -> Request.Response {
        let response: any Sendable
        switch request {
        case let request as GenerateDataKeyWithoutPlaintextRequest:
            response = try await keyService.generateDataKeyWithoutPlaintext(request, caller: caller)
        case let request as GenerateDataKeyRequest:
            response = try await keyService.generateDataKey(request, caller: caller)
        case let request as ReEncryptRequest: response = try await keyService.reEncrypt(request, caller: caller)
        case let request as DecryptRequest: response = try await keyService.decrypt(request, caller: caller)
        case let request as EncryptRequest: response = try await keyService.encrypt(request, caller: caller)
        case let request as DescribeKeyRequest: response = try await keyService.describeKey(request, caller: caller)
        default:
            throw KMSError(code: "UnsupportedOperationException", message: "\(Request.operation) is not served in process")
        }
        guard let typed = response as? Request.Response else {
            throw KMSError(code: "KMSInternalException", message: "\(Request.operation) answered another shape")
        }
        return typed
    }
}
