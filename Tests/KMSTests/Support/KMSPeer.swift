import Foundation
import SealedTesting

/// Runs the official Python ESDK (`scripts/peers/esdk_peer.py`) with keyrings that include its AWS KMS keyring,
/// which `SealedTesting.PythonESDK.Keyring` cannot describe yet: the job's keyrings are given as JSON objects.
struct KMSPeer {
    struct Case {
        var id: String
        var operation: String
        var api: String = "keyring"
        var keyring: [String: Any]
        var encryptionContext: [String: String] = [:]
        var input: [UInt8]
    }

    struct Result {
        var output: [UInt8]?
        var error: String?
        var encryptionContext: [String: String]
    }

    let python: URL

    static func located() throws -> KMSPeer? {
        try TestEnvironment.peerPython().map { KMSPeer(python: $0) }
    }

    /// The peer's description of a KMS keyring for a key and a user of the moto fixture.
    static func kmsKeyring(_ moto: Moto, keyId: String, user: Moto.User? = nil) -> [String: Any] {
        let user = user ?? moto.allowed
        return [
            "type": "aws-kms", "key_id": keyId, "region": moto.region, "endpoint_url": moto.endpoint,
            "access_key_id": user.accessKeyId, "secret_access_key": user.secretAccessKey,
        ]
    }

    static func rawAESKeyring(namespace: String, name: String, key: [UInt8]) -> [String: Any] {
        ["type": "raw-aes", "namespace": namespace, "name": name, "key": Data(key).base64EncodedString()]
    }

    func run(_ cases: [Case]) throws -> [String: Result] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kms-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var jobs: [[String: Any]] = []
        for (index, item) in cases.enumerated() {
            let input = folder.appendingPathComponent("in-\(index)")
            try Data(item.input).write(to: input)
            jobs.append([
                "id": item.id, "operation": item.operation, "api": item.api, "keyring": item.keyring,
                "encryption_context": item.encryptionContext, "input": input.path,
                "output": folder.appendingPathComponent("out-\(index)").path,
            ])
        }
        let jobFile = folder.appendingPathComponent("job.json")
        let resultFile = folder.appendingPathComponent("results.json")
        try JSONSerialization.data(withJSONObject: ["cases": jobs]).write(to: jobFile)
        let process = Process()
        process.executableURL = python
        process.arguments = [
            TestEnvironment.peerScripts.appendingPathComponent("esdk_peer.py").path, jobFile.path, resultFile.path,
        ]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let errorOutput = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: resultFile)) as? [String: Any],
            let results = json["results"] as? [[String: Any]]
        else {
            throw TestEnvironment.Missing(
                description:
                    "esdk_peer.py failed (\(process.terminationStatus)): \(String(decoding: errorOutput, as: UTF8.self))"
            )
        }
        var byID: [String: Result] = [:]
        for (index, result) in results.enumerated() {
            guard let id = result["id"] as? String else { continue }
            let ok = result["ok"] as? Bool ?? false
            let output = ok ? try? [UInt8](Data(contentsOf: folder.appendingPathComponent("out-\(index)"))) : nil
            byID[id] = Result(
                output: output,
                error: result["error"] as? String,
                encryptionContext: result["encryption_context"] as? [String: String] ?? [:]
            )
        }
        return byID
    }
}
