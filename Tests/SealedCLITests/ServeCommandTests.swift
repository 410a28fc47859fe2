import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sealed serve` as users run it: the built binary on a free loopback port, driven by our KMS client,
/// our KMS keyring and the official Python ESDK's KMS keyring (boto3), and restarted on the same data.
@Suite(.serialized)
struct ServeCommandTests {
    /// A running `sealed serve`; stopped with SIGTERM.
    final class RunningServer {
        let process: Process
        let endpoint: URL
        let dataDirectory: URL

        init(dataDirectory: URL, environment: [String: String] = [:]) throws {
            self.dataDirectory = dataDirectory
            process = Process()
            process.executableURL = try ESDKCommandTests.binary
            process.arguments = ["serve", "--data-dir", dataDirectory.path, "--port", "0", "--log-level", "warning"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The first line names the port it bound.
            var text = ""
            let handle = output.fileHandleForReading
            while !text.contains("\n") {
                let data = handle.availableData
                guard !data.isEmpty else { break }
                text += String(decoding: data, as: UTF8.self)
            }
            guard let range = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression),
                let url = URL(string: String(text[range]))
            else {
                process.terminate()
                throw TestEnvironment.Missing(description: "sealed serve did not start: \(text)")
            }
            endpoint = url
        }

        /// SIGTERM, then wait: a graceful stop exits 0.
        func stop() -> Int32 {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            return process.terminationStatus
        }

        var administrator: Credentials {
            get throws {
                let files = ProfileFile.load(environment: [
                    "AWS_SHARED_CREDENTIALS_FILE": dataDirectory.appendingPathComponent("admin.credentials").path,
                    "AWS_CONFIG_FILE": "/nonexistent",
                ])
                let profile = try #require(files[profile: "sealed-admin"])
                return Credentials(
                    accessKeyId: try #require(profile["aws_access_key_id"]),
                    secretAccessKey: try #require(profile["aws_secret_access_key"])
                )
            }
        }

        func kms() throws -> KMSClient {
            try KMSClient(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(try administrator),
                endpoint: endpoint,
                options: ClientOptions(maxAttempts: 1, timeout: .seconds(20))
            )
        }
    }

    @Test func serveKeepsKeysAcrossRestartsAndRefusesAnotherRootKey() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")

        let first = try RunningServer(dataDirectory: data)
        let keyID = try #require(try await first.kms().createKey(CreateKeyRequest(description: "restart test")).keyMetadata?.keyId)
        let ciphertext = try #require(
            try await first.kms().encrypt(
                EncryptRequest(keyId: keyID, plaintext: Data("durable".utf8), encryptionContext: ["tenant": "acme"])
            ).ciphertextBlob
        )
        #expect(first.stop() == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: data.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let credentials = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent("admin.credentials").path)
        #expect((credentials[.posixPermissions] as? Int) == 0o600)

        let second = try RunningServer(dataDirectory: data)
        let plaintext = try await second.kms().decrypt(
            DecryptRequest(ciphertextBlob: ciphertext, encryptionContext: ["tenant": "acme"])
        ).plaintext
        #expect(plaintext == Data("durable".utf8))
        #expect(second.stop() == 0)

        // Another root key: refused with one line, nothing changed.
        let refused = try ESDKCommandTests.sealed(
            ["serve", "--data-dir", data.path, "--port", "0"],
            environment: ["SEALED_ROOT_KEY": Data((0..<32).map { UInt8($0) }).base64EncodedString()]
        )
        #expect(refused.status != 0)
        #expect(refused.stderr.hasPrefix("error: ") && refused.stderr.contains("root key"), "\(refused.stderr)")
    }

    /// The ESDK KMS keyring against our own key service, and the official Python ESDK's KMS keyring
    /// (boto3 pointed at `sealed serve`), both directions.
    @Test func esdkKMSKeyringsInteroperateThroughOurServer() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try RunningServer(dataDirectory: folder.appendingPathComponent("data"))
        defer { _ = server.stop() }
        let kms = try server.kms()
        let keyARN = try #require(try await kms.createKey().keyMetadata?.arn)
        let keyring = try KMSKeyring(generatorKeyId: keyARN, client: kms)
        let context: EncryptionContext = ["eventType": "payments.card.captured"]
        let plaintext = Array("sealed by swift through sealed serve".utf8)
        let message = try await EncryptionClient().encrypt(plaintext, keyring: keyring, encryptionContext: context)
        #expect(try await EncryptionClient().decrypt(message.ciphertext, keyring: keyring).plaintext == plaintext)

        guard let python = try PythonESDK.located() else { return }
        let admin = try server.administrator
        let pythonKeyring = PythonESDK.Keyring.awsKMS(
            keyID: keyARN,
            region: "us-east-1",
            endpoint: server.endpoint.absoluteString,
            accessKeyID: admin.accessKeyId,
            secretAccessKey: admin.secretAccessKey
        )
        let results = try python.run([
            .init(id: "decrypt", operation: .decrypt, keyring: pythonKeyring, input: message.ciphertext),
            .init(id: "encrypt", operation: .encrypt, keyring: pythonKeyring, encryptionContext: context, input: plaintext),
            .init(id: "legacy", operation: .encrypt, api: .masterKey, keyring: pythonKeyring, encryptionContext: context, input: plaintext),
        ])
        #expect(results["decrypt"]?.output == plaintext, "\(results["decrypt"]?.error ?? "")")
        for id in ["encrypt", "legacy"] {
            let sealed = try #require(results[id]?.output, "\(id): \(results[id]?.error ?? "")")
            #expect(try await EncryptionClient().decrypt(sealed, keyring: keyring, encryptionContext: context).plaintext == plaintext)
        }
    }
}
