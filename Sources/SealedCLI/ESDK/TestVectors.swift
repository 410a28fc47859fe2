internal import Crypto
import EncryptionSDK
public import Foundation

/// Runs AWS Encryption SDK decrypt test vectors: `awses-decrypt` manifests (versions 2, 4 and 5, with
/// their `keys.json`; aws-crypto-tools-test-vector-framework features 0002 and 0004) and message-format
/// v2 known-answer files (`commitment-test-vectors.json` of the Python ESDK).
public enum TestVectors {
    /// The result of one vector.
    public struct Outcome: Sendable {
        /// `folder/test-id` (or `file#index` for known-answer entries).
        public let name: String
        public let passed: Bool
        /// Why it failed; empty when it passed.
        public let detail: String
    }

    /// A vector file that cannot be read.
    public struct ManifestError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs every vector under `url`: a manifest folder, a manifest or known-answer file, or a folder
    /// of such folders searched recursively. Decrypts with policy require-encrypt / allow-decrypt.
    public static func run(_ url: URL) async throws -> [Outcome] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ManifestError(description: "no such file or folder: \(url.path)")
        }
        if !isDirectory.boolValue { return try await runFile(url) }
        let manifest = url.appendingPathComponent("manifest.json")
        if FileManager.default.fileExists(atPath: manifest.path) { return try await runFile(manifest) }
        var outcomes: [Outcome] = []
        let entries = try FileManager.default.contentsOfDirectory(
            at: url,
            includingPropertiesForKeys: [.isDirectoryKey]
        ).sorted { $0.path < $1.path }
        for entry in entries {
            let isFolder = (try? entry.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
            if isFolder {
                outcomes += try await run(entry)
            } else if entry.pathExtension == "json", let json = try? loadJSON(entry), isKnownAnswerFile(json) {
                outcomes += try await runKnownAnswers(json, name: entry.lastPathComponent)
            }
        }
        return outcomes
    }

    private static func runFile(_ url: URL) async throws -> [Outcome] {
        let json = try loadJSON(url)
        if isKnownAnswerFile(json) { return try await runKnownAnswers(json, name: url.lastPathComponent) }
        guard let manifest = json["manifest"] as? [String: Any], manifest["type"] as? String == "awses-decrypt",
            let version = manifest["version"] as? Int
        else {
            throw ManifestError(description: "\(url.path) is neither an awses-decrypt manifest nor a known-answer file")
        }
        guard [2, 3, 4, 5].contains(version) else {
            throw ManifestError(description: "\(url.path): awses-decrypt manifest version \(version) is not supported")
        }
        let folder = url.deletingLastPathComponent()
        let group = folder.lastPathComponent
        guard let keysURI = json["keys"] as? String, let tests = json["tests"] as? [String: Any] else {
            throw ManifestError(description: "\(url.path): manifest lacks keys or tests")
        }
        let keys = try Keys(json: try loadJSON(resolve(keysURI, in: folder)))
        var outcomes: [Outcome] = []
        for (id, value) in tests.sorted(by: { $0.key < $1.key }) {
            let name = "\(group)/\(id)"
            do {
                guard let test = value as? [String: Any] else {
                    throw ManifestError(description: "test is not an object")
                }
                let vector =
                    try version == 5
                    ? Vector(v5: test, keys: keys, folder: folder) : Vector(v2: test, keys: keys, folder: folder)
                outcomes.append(await vector.run(name: name))
            } catch {
                outcomes.append(Outcome(name: name, passed: false, detail: "unreadable test: \(error)"))
            }
        }
        return outcomes
    }

    // MARK: Manifests

    private struct Vector {
        let ciphertext: URL
        let plaintext: URL?
        let cmm: any CryptographicMaterialsManager
        let reproducedContext: EncryptionContext

        init(v2 test: [String: Any], keys: Keys, folder: URL) throws {
            ciphertext = try resolve(string(test, "ciphertext"), in: folder)
            guard let result = test["result"] as? [String: Any] else { throw ManifestError(description: "no result") }
            if let output = result["output"] as? [String: Any] {
                plaintext = try resolve(string(output, "plaintext"), in: folder)
            } else {
                plaintext = nil
            }
            guard let masterKeys = test["master-keys"] as? [[String: Any]], !masterKeys.isEmpty else {
                throw ManifestError(description: "no master keys")
            }
            let keyrings = try masterKeys.map { try keys.keyring($0) }
            let keyring: any Keyring =
                keyrings.count == 1 ? keyrings[0] : try MultiKeyring(generator: nil, children: keyrings)
            reproducedContext = test["encryption-context"] as? [String: String] ?? [:]
            if test["cmm"] as? String == "RequiredEncryptionContext", !reproducedContext.isEmpty {
                cmm = try RequiredEncryptionContextMaterialsManager(
                    keyring: keyring,
                    requiredKeys: Array(reproducedContext.keys)
                )
            } else {
                cmm = DefaultMaterialsManager(keyring: keyring)
            }
        }

        init(v5 test: [String: Any], keys: Keys, folder: URL) throws {
            guard let scenario = test["decryption-scenario"] as? [String: Any] else {
                throw ManifestError(description: "no decryption-scenario")
            }
            ciphertext = try resolve(string(scenario, "ciphertext"), in: folder)
            let type = try string(scenario, "type")
            plaintext = type == "positive-esdk" ? try resolve(string(scenario, "result"), in: folder) : nil
            reproducedContext = scenario["reproduced-encryption-context"] as? [String: String] ?? [:]
            guard let description = scenario["decryptKeyDescription"] as? [String: Any] else {
                throw ManifestError(description: "no decryptKeyDescription")
            }
            cmm = try Self.materialsManager(description, keys: keys)
        }

        static func materialsManager(
            _ description: [String: Any],
            keys: Keys
        ) throws -> any CryptographicMaterialsManager {
            if description["type"] as? String == "required-encryption-context-cmm" {
                guard let underlying = description["underlying"] as? [String: Any],
                    let required = description["requiredEncryptionContextKeys"] as? [String]
                else { throw ManifestError(description: "incomplete required-encryption-context-cmm") }
                return try RequiredEncryptionContextMaterialsManager(
                    keyring: try keyring(underlying, keys: keys),
                    requiredKeys: required
                )
            }
            return DefaultMaterialsManager(keyring: try keyring(description, keys: keys))
        }

        static func keyring(_ description: [String: Any], keys: Keys) throws -> any Keyring {
            switch description["type"] as? String {
            case "raw": return try keys.keyring(description)
            case "multi-keyring":
                let generator = try (description["generator"] as? [String: Any]).map { try keyring($0, keys: keys) }
                let children = try (description["childKeyrings"] as? [[String: Any]] ?? []).map {
                    try keyring($0, keys: keys)
                }
                return try MultiKeyring(generator: generator, children: children)
            case let other: throw ManifestError(description: "unsupported keyring type \(other ?? "none")")
            }
        }

        func run(name: String) async -> Outcome {
            let client = EncryptionClient(commitmentPolicy: .requireEncryptAllowDecrypt)
            do {
                let message = try [UInt8](Data(contentsOf: ciphertext))
                let expected = try plaintext.map { try [UInt8](Data(contentsOf: $0)) }
                do {
                    let result = try await client.decrypt(
                        message,
                        materialsManager: cmm,
                        encryptionContext: reproducedContext
                    )
                    guard let expected else {
                        return Outcome(name: name, passed: false, detail: "expected an error, decrypt succeeded")
                    }
                    guard result.plaintext == expected else {
                        return Outcome(name: name, passed: false, detail: "plaintext differs")
                    }
                    return Outcome(name: name, passed: true, detail: "")
                } catch {
                    guard expected == nil else {
                        return Outcome(name: name, passed: false, detail: "expected success, got \(error)")
                    }
                    return Outcome(name: name, passed: true, detail: "")
                }
            } catch {
                return Outcome(name: name, passed: false, detail: "cannot read vector files: \(error)")
            }
        }
    }

    /// The `keys.json` of a manifest (test-vector framework feature 0002).
    private struct Keys {
        let entries: [String: [String: Any]]

        init(json: [String: Any]) throws {
            guard let keys = json["keys"] as? [String: [String: Any]] else {
                throw ManifestError(description: "keys.json has no keys")
            }
            entries = keys
        }

        func keyring(_ description: [String: Any]) throws -> any Keyring {
            let keyID = try string(description, "key")
            let namespace = try string(description, "provider-id")
            guard let key = entries[keyID] else { throw ManifestError(description: "unknown key \(keyID)") }
            let name = key["key-id"] as? String ?? keyID
            let material = try string(key, "material")
            switch description["encryption-algorithm"] as? String {
            case "aes":
                guard let bytes = Data(base64Encoded: material) else {
                    throw ManifestError(description: "key \(keyID) is not base64")
                }
                return try RawAESKeyring(keyNamespace: namespace, keyName: name, wrappingKey: SymmetricKey(data: bytes))
            case "rsa":
                let padding: RawRSAKeyring.Padding
                switch (description["padding-algorithm"] as? String, description["padding-hash"] as? String) {
                case ("pkcs1", _): padding = .pkcs1
                case ("oaep-mgf1", "sha1"): padding = .oaepSHA1
                case ("oaep-mgf1", "sha256"): padding = .oaepSHA256
                case ("oaep-mgf1", "sha384"): padding = .oaepSHA384
                case ("oaep-mgf1", "sha512"): padding = .oaepSHA512
                default: throw ManifestError(description: "unsupported RSA padding")
                }
                let isPrivate = key["type"] as? String == "private"
                return try RawRSAKeyring(
                    keyNamespace: namespace,
                    keyName: name,
                    padding: padding,
                    publicKeyPEM: isPrivate ? nil : material,
                    privateKeyPEM: isPrivate ? material : nil
                )
            case let other:
                throw ManifestError(description: "unsupported encryption algorithm \(other ?? "none")")
            }
        }
    }

    // MARK: Known answers

    private static func isKnownAnswerFile(_ json: [String: Any]) -> Bool {
        (json["tests"] as? [[String: Any]])?.first?["decrypted-dek"] != nil
    }

    /// Entries give the plaintext data key, so a keyring that hands it out replaces the real one.
    private static func runKnownAnswers(_ json: [String: Any], name: String) async throws -> [Outcome] {
        guard let tests = json["tests"] as? [[String: Any]] else {
            throw ManifestError(description: "\(name) has no tests")
        }
        let client = EncryptionClient(commitmentPolicy: .requireEncryptAllowDecrypt)
        var outcomes: [Outcome] = []
        for (index, test) in tests.enumerated() {
            let label = "\(name)#\(index + 1)"
            guard let message = (test["ciphertext"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let dataKey = (test["decrypted-dek"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let mustSucceed = test["status"] as? Bool
            else {
                outcomes.append(Outcome(name: label, passed: false, detail: "unreadable entry"))
                continue
            }
            let expected = (test["plaintext-frames"] as? [String] ?? []).joined()
            let context = test["encryption-context"] as? [String: String] ?? [:]
            do {
                let result = try await client.decrypt(
                    [UInt8](message),
                    keyring: KnownDataKeyKeyring(dataKey: [UInt8](dataKey)),
                    encryptionContext: context
                )
                if !mustSucceed {
                    outcomes.append(Outcome(name: label, passed: false, detail: "expected an error, decrypt succeeded"))
                } else if result.plaintext != Array(expected.utf8) {
                    outcomes.append(Outcome(name: label, passed: false, detail: "plaintext differs"))
                } else {
                    outcomes.append(Outcome(name: label, passed: true, detail: ""))
                }
            } catch {
                outcomes.append(
                    Outcome(
                        name: label,
                        passed: !mustSucceed,
                        detail: mustSucceed ? "expected success, got \(error)" : ""
                    )
                )
            }
        }
        return outcomes
    }

    /// Hands out a known data key for any encrypted data key (known-answer tests only).
    private struct KnownDataKeyKeyring: Keyring {
        let dataKey: [UInt8]

        func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
            throw EncryptionSDKError(.unsupported, "a known-answer keyring only decrypts")
        }

        func onDecrypt(
            _ materials: DecryptionMaterials,
            encryptedDataKeys: [EncryptedDataKey]
        ) async throws -> DecryptionMaterials {
            var materials = materials
            materials.plaintextDataKey = SymmetricKey(data: dataKey)
            return materials
        }
    }

    // MARK: Files

    private static func loadJSON(_ url: URL) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw ManifestError(description: "\(url.path) is not a JSON object")
        }
        return object
    }

    private static func resolve(_ uri: String, in folder: URL) throws -> URL {
        guard uri.hasPrefix("file://") else { throw ManifestError(description: "unsupported URI \(uri)") }
        return folder.appendingPathComponent(String(uri.dropFirst("file://".count)))
    }

    private static func string(_ object: [String: Any], _ key: String) throws -> String {
        guard let value = object[key] as? String else { throw ManifestError(description: "missing \"\(key)\"") }
        return value
    }
}
