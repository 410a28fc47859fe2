import Foundation

/// Drives the official Python AWS Encryption SDK (`scripts/peers/esdk_peer.py`) in batches.
public struct PythonESDK: Sendable {
    /// A keyring as the peer script describes it.
    public indirect enum Keyring: Sendable {
        case rawAES(namespace: String, name: String, key: [UInt8])
        case rawRSA(namespace: String, name: String, padding: String, publicPEM: String?, privatePEM: String?)
        case multi(generator: Keyring, children: [Keyring])
        /// The Python ESDK's AWS KMS keyring (`KMSMasterKey` in the legacy API) for one key, with a
        /// boto3 client for `endpoint` signed with the given access key.
        case awsKMS(keyID: String, region: String, endpoint: String, accessKeyID: String, secretAccessKey: String)

        var json: [String: Any] {
            switch self {
            case .rawAES(let namespace, let name, let key):
                return [
                    "type": "raw-aes", "namespace": namespace, "name": name, "key": Data(key).base64EncodedString(),
                ]
            case .rawRSA(let namespace, let name, let padding, let publicPEM, let privatePEM):
                var json: [String: Any] = ["type": "raw-rsa", "namespace": namespace, "name": name, "padding": padding]
                if let publicPEM { json["public_pem"] = publicPEM }
                if let privatePEM { json["private_pem"] = privatePEM }
                return json
            case .multi(let generator, let children):
                return ["type": "multi", "generator": generator.json, "children": children.map(\.json)]
            case .awsKMS(let keyID, let region, let endpoint, let accessKeyID, let secretAccessKey):
                return [
                    "type": "aws-kms", "key_id": keyID, "region": region, "endpoint_url": endpoint,
                    "access_key_id": accessKeyID, "secret_access_key": secretAccessKey,
                ]
            }
        }
    }

    /// One operation for the peer.
    public struct Case: Sendable {
        public enum Operation: String, Sendable {
            case encrypt, decrypt
        }

        public enum API: String, Sendable {
            case keyring
            case masterKey = "master-key"
        }

        public var id: String
        public var operation: Operation
        public var api: API
        public var keyring: Keyring
        public var suite: String?
        public var frameLength: Int?
        public var encryptionContext: [String: String]
        public var commitmentPolicy: String
        public var input: [UInt8]

        public init(
            id: String,
            operation: Operation,
            api: API = .keyring,
            keyring: Keyring,
            suite: String? = nil,
            frameLength: Int? = nil,
            encryptionContext: [String: String] = [:],
            commitmentPolicy: String = "require-require",
            input: [UInt8]
        ) {
            self.id = id
            self.operation = operation
            self.api = api
            self.keyring = keyring
            self.suite = suite
            self.frameLength = frameLength
            self.encryptionContext = encryptionContext
            self.commitmentPolicy = commitmentPolicy
            self.input = input
        }
    }

    /// What the peer did with one case.
    public struct Result: Sendable {
        public let id: String
        /// The peer's output bytes, or `nil` when it failed.
        public let output: [UInt8]?
        public let error: String?
        /// The encryption context of the message's header.
        public let encryptionContext: [String: String]
        public let algorithmSuite: String?
    }

    /// A peer run that could not complete.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let python: URL

    /// The peer, or `nil` when the venv is missing on a local run (a CI run throws instead).
    public static func located() throws -> PythonESDK? {
        try TestEnvironment.peerPython().map { PythonESDK(python: $0) }
    }

    /// Runs the cases in one Python process.
    public func run(_ cases: [Case]) async throws -> [String: Result] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("esdk-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var jobs: [[String: Any]] = []
        for (index, item) in cases.enumerated() {
            let input = folder.appendingPathComponent("in-\(index)")
            try Data(item.input).write(to: input)
            var job: [String: Any] = [
                "id": item.id, "operation": item.operation.rawValue, "api": item.api.rawValue,
                "keyring": item.keyring.json, "encryption_context": item.encryptionContext,
                "commitment_policy": item.commitmentPolicy, "input": input.path,
                "output": folder.appendingPathComponent("out-\(index)").path,
            ]
            if let suite = item.suite { job["suite"] = suite }
            if let frameLength = item.frameLength { job["frame_length"] = frameLength }
            jobs.append(job)
        }
        let results = try await PeerScript.run(
            "esdk_peer.py",
            python: python,
            job: ["cases": jobs],
            in: folder
        ) { Failure(description: $0) }
        var byID: [String: Result] = [:]
        for result in results {
            guard let id = result["id"] as? String else { continue }
            let index = cases.firstIndex { $0.id == id }
            let ok = result["ok"] as? Bool ?? false
            let output =
                ok ? index.flatMap { try? [UInt8](Data(contentsOf: folder.appendingPathComponent("out-\($0)"))) } : nil
            byID[id] = Result(
                id: id,
                output: output,
                error: result["error"] as? String,
                encryptionContext: result["encryption_context"] as? [String: String] ?? [:],
                algorithmSuite: result["algorithm_suite"] as? String
            )
        }
        return byID
    }
}
