import Foundation

/// Drives the official branch keystore of the Python Material Providers Library (`KeyStore`, through
/// `scripts/peers/keystore_peer.py`): one Python process runs a batch of steps against one table.
public struct PythonKeyStore: Sendable {
    /// Where the keystore lives and who calls it: a DynamoDB table and a KMS key on one endpoint (moto or
    /// `sealed serve`), signed with one access key.
    public struct Configuration: Sendable {
        public var table: String
        public var logicalName: String
        public var kmsKeyARN: String
        public var endpoint: String
        public var region: String
        public var accessKeyID: String
        public var secretAccessKey: String
        /// The session token of role-session credentials.
        public var sessionToken: String?

        public init(
            table: String,
            logicalName: String,
            kmsKeyARN: String,
            endpoint: String,
            region: String,
            accessKeyID: String,
            secretAccessKey: String,
            sessionToken: String? = nil
        ) {
            self.table = table
            self.logicalName = logicalName
            self.kmsKeyARN = kmsKeyARN
            self.endpoint = endpoint
            self.region = region
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        var json: [String: Any] {
            var json: [String: Any] = [
                "table": table, "logical_name": logicalName, "kms_key_arn": kmsKeyARN, "endpoint_url": endpoint,
                "region": region, "access_key_id": accessKeyID, "secret_access_key": secretAccessKey,
            ]
            if let sessionToken { json["session_token"] = sessionToken }
            return json
        }
    }

    /// One keystore operation.
    public enum Step: Sendable {
        case createKeyStore
        case createKey(branchKeyID: String?, encryptionContext: [String: String])
        case versionKey(branchKeyID: String)
        case activeBranchKey(branchKeyID: String)
        case branchKeyVersion(branchKeyID: String, version: String)
        case beaconKey(branchKeyID: String)
        /// Encrypts with the hierarchical keyring: with `branchKeyID`, or without one through a supplier that reads
        /// the context's `subjectKey`.
        case encrypt(
            branchKeyID: String?,
            plaintext: [UInt8],
            encryptionContext: [String: String],
            suite: String = "0x0578"
        )
        /// Decrypts with the hierarchical keyring (with `branchKeyID`, or the context's `subjectKey`).
        case decrypt(branchKeyID: String?, ciphertext: [UInt8])

        var json: [String: Any] {
            switch self {
            case .createKeyStore:
                return ["op": "create_key_store"]
            case .createKey(let id, let context):
                var json: [String: Any] = ["op": "create_key"]
                if let id { json["branch_key_id"] = id }
                if !context.isEmpty { json["encryption_context"] = context }
                return json
            case .versionKey(let id): return ["op": "version_key", "branch_key_id": id]
            case .activeBranchKey(let id): return ["op": "get_active", "branch_key_id": id]
            case .branchKeyVersion(let id, let version):
                return ["op": "get_version", "branch_key_id": id, "version": version]
            case .beaconKey(let id): return ["op": "get_beacon", "branch_key_id": id]
            case .encrypt(let id, let plaintext, let context, let suite):
                var json: [String: Any] = [
                    "op": "encrypt", "plaintext": Data(plaintext).base64EncodedString(),
                    "encryption_context": context, "suite": suite,
                ]
                if let id { json["branch_key_id"] = id }
                return json
            case .decrypt(let id, let ciphertext):
                var json: [String: Any] = ["op": "decrypt", "ciphertext": Data(ciphertext).base64EncodedString()]
                if let id { json["branch_key_id"] = id }
                return json
            }
        }
    }

    /// What one step returned.
    public struct Result: Sendable {
        /// The error message of a failed step (`nil` when it succeeded).
        public let error: String?
        /// The Python exception type of a failed step (`KeyStoreException`, `ComAmazonawsKms`, …).
        public let errorType: String?
        public let tableARN: String?
        public let branchKeyID: String?
        public let version: String?
        /// The unwrapped branch or beacon key.
        public let key: [UInt8]?
        /// What `encrypt` made (an ESDK message).
        public let ciphertext: [UInt8]?
        /// What `decrypt` opened.
        public let plaintext: [UInt8]?
        public let encryptionContext: [String: String]

        public var succeeded: Bool { error == nil }
    }

    /// A peer run that could not complete.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let python: URL

    /// The peer, or `nil` when the venv is missing on a local run (a CI run throws instead).
    public static func located() throws -> PythonKeyStore? {
        try TestEnvironment.peerPython().map { PythonKeyStore(python: $0) }
    }

    /// Runs the steps in order in one Python process; a failed step does not stop the others.
    ///
    /// - Returns: One result per step, in order.
    public func run(_ configuration: Configuration, _ steps: [Step]) async throws -> [Result] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keystore-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let jobs = steps.enumerated().map { index, step in step.json.merging(["id": "\(index)"]) { a, _ in a } }
        let results = try await PeerScript.run(
            "keystore_peer.py",
            python: python,
            job: ["keystore": configuration.json, "steps": jobs],
            in: folder
        ) { Failure(description: $0) }
        guard results.count == steps.count else {
            throw Failure(description: "keystore_peer.py wrote \(results.count) results for \(steps.count) steps")
        }
        return results.map { result in
            let ok = result["ok"] as? Bool ?? false
            return Result(
                error: ok ? nil : (result["error"] as? String ?? "failed"),
                errorType: result["error_type"] as? String,
                tableARN: result["table_arn"] as? String,
                branchKeyID: result["branch_key_id"] as? String,
                version: result["version"] as? String,
                key: Self.bytes(result["key"]),
                ciphertext: Self.bytes(result["ciphertext"]),
                plaintext: Self.bytes(result["plaintext"]),
                encryptionContext: result["encryption_context"] as? [String: String] ?? [:]
            )
        }
    }

    private static func bytes(_ value: Any?) -> [UInt8]? {
        (value as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
    }
}
