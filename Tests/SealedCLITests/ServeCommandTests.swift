import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import SigV4
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sealed serve` as users run it: the built binary on a free loopback port, driven by our KMS client,
/// our KMS keyring and the official Python ESDK's KMS keyring (boto3), and restarted on the same data.
@Suite(.serialized)
struct ServeCommandTests {
    /// A running `sealed serve`; stopped with SIGTERM.
    typealias RunningServer = ServeProcess

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
        let refused = try await ESDKCommandTests.sealed(
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
        let results = try await python.run([
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

    /// The aws CLI (from the peers' venv) against `sealed serve`: create a key, round-trip data.
    @Test func awsCLISmokeRun() async throws {
        guard let python = try TestEnvironment.peerPython() else { return }
        let aws = python.deletingLastPathComponent().appendingPathComponent("aws")
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let server = try RunningServer(dataDirectory: data)
        defer { _ = server.stop() }
        let environment = server.administratorEnvironment
        func run(_ arguments: [String]) async throws -> String {
            let run = try await ChildProcess.run(
                aws,
                arguments: ["kms"] + arguments + [
                    "--endpoint-url", server.endpoint.absoluteString, "--region", "us-east-1", "--output", "text",
                ],
                environment: environment
            )
            guard run.status == 0 else {
                throw TestEnvironment.Missing(description: "aws kms \(arguments[0]): \(run.errors)")
            }
            return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let keyID = try await run(["create-key", "--description", "aws cli smoke", "--query", "KeyMetadata.KeyId"])
        #expect(keyID.count == 36)
        _ = try await run(["create-alias", "--alias-name", "alias/smoke", "--target-key-id", keyID])
        let input = folder.appendingPathComponent("plain")
        try Data("hello from the aws cli".utf8).write(to: input)
        let blob = try await run(["encrypt", "--key-id", "alias/smoke", "--plaintext", "fileb://\(input.path)", "--query", "CiphertextBlob"])
        let sealed = folder.appendingPathComponent("sealed")
        try #require(Data(base64Encoded: blob)).write(to: sealed)
        let plaintext = try await run(["decrypt", "--ciphertext-blob", "fileb://\(sealed.path)", "--query", "Plaintext"])
        #expect(Data(base64Encoded: plaintext) == Data("hello from the aws cli".utf8))
        #expect(try await run(["describe-key", "--key-id", keyID, "--query", "KeyMetadata.KeyState"]) == "Enabled")
    }

    /// `kill -9` in the middle of a burst of CreateKey and Encrypt calls: the database opens again and
    /// every key and ciphertext the server acknowledged is usable.
    @Test func killDashNineLosesNothingAcknowledged() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let server = try RunningServer(dataDirectory: data)
        let kms = try server.kms()
        let acknowledged = Acknowledged()
        let burst = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for i in 0..<1000 {
                            guard let keyID = try? await kms.createKey().keyMetadata?.keyId else { return }
                            let plaintext = Data("worker \(worker) message \(i)".utf8)
                            guard let blob = try? await kms.encrypt(EncryptRequest(keyId: keyID, plaintext: plaintext)).ciphertextBlob
                            else { return }
                            acknowledged.add(keyID: keyID, ciphertext: blob, plaintext: plaintext)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Let the burst run, then kill the server without warning.
        for _ in 0..<1500 where acknowledged.count < 20 { try await Task.sleep(for: .milliseconds(20)) }
        try #require(acknowledged.count >= 20, "the burst never got going")
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        _ = try? await burst.value

        let restarted = try RunningServer(dataDirectory: data)
        defer { _ = restarted.stop() }
        let client = try restarted.kms()
        let entries = acknowledged.entries
        #expect(entries.count >= 20)
        for entry in entries {
            let opened = try await client.decrypt(DecryptRequest(ciphertextBlob: entry.ciphertext)).plaintext
            #expect(opened == entry.plaintext)
            let state = try await client.describeKey(DescribeKeyRequest(keyId: entry.keyID)).keyMetadata?.keyState
            #expect(state == .enabled)
        }
    }

    final class Acknowledged: Sendable {
        typealias Entry = (keyID: String, ciphertext: Data, plaintext: Data)
        private let list = Mutex<[Entry]>([])

        func add(keyID: String, ciphertext: Data, plaintext: Data) {
            list.withLock { $0.append((keyID, ciphertext, plaintext)) }
        }

        var count: Int { list.withLock { $0.count } }
        var entries: [Entry] { list.withLock { $0 } }
    }
}
