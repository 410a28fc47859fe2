import AsyncHTTPClient
import Foundation
import KMS
import Logging
import NIOCore
import NIOHTTP1
import SealedServerTesting
import SealedTesting
import Server
import ServiceLifecycle
import SigV4
import Testing

/// The server on a real loopback port, run the way `sealed serve` runs it: ``SealedServer/services(onServerRunning:)``
/// in a `ServiceGroup`.
@Suite struct LiveServerTests {
    /// Runs the fixture's services, calls `body` with the bound port, then shuts the group down gracefully.
    func withLiveServer<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        try await SealedServerTesting.withLiveServer(try Fixture(port: 0).server, logger: Fixture.logger, body)
    }

    static func client(port: Int, user: Authentication.User = Fixture.admin) throws -> KMSClient {
        try KMSClient(
            region: Fixture.region,
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey)
            ),
            endpoint: URL(string: "http://127.0.0.1:\(port)")!
        )
    }

    @Test func ourKMSClientWorksAgainstTheLiveServer() async throws {
        try await withLiveServer { port in
            let kms = try Self.client(port: port)
            let key = try #require(try await kms.createKey(CreateKeyRequest(description: "live")).keyMetadata?.keyId)
            let context = ["eventType": "orders.created"]
            let plaintext = Data("hello over the wire".utf8)
            let encrypted = try await kms.encrypt(EncryptRequest(keyId: key, plaintext: plaintext, encryptionContext: context))
            let blob = try #require(encrypted.ciphertextBlob)
            #expect(try await kms.decrypt(DecryptRequest(ciphertextBlob: blob, encryptionContext: context)).plaintext == plaintext)

            let dataKey = try await kms.generateDataKey(GenerateDataKeyRequest(keyId: key, numberOfBytes: 32))
            let unwrapped = try await kms.decrypt(DecryptRequest(ciphertextBlob: try #require(dataKey.ciphertextBlob)))
            #expect(unwrapped.plaintext == dataKey.plaintext)

            // Service errors arrive as the same KMSError the key service threw.
            await #expect(throws: KMSError.invalidCiphertext) {
                try await kms.decrypt(DecryptRequest(ciphertextBlob: blob, encryptionContext: ["eventType": "other"]))
            }
            let reader = try Self.client(port: port, user: Fixture.reader)
            await #expect(throws: KMSError.accessDenied) { try await reader.listKeys() }
        }
    }

    /// boto3 from the peers' venv drives the live server (`scripts/peers/kms_server_test.py`).
    @Test func boto3WorksAgainstTheLiveServer() async throws {
        guard let python = try TestEnvironment.peerPython() else { return }
        let script = TestEnvironment.peerScripts.appendingPathComponent("kms_server_test.py")
        try #require(FileManager.default.fileExists(atPath: script.path), "missing \(script.path)")
        let run = try await withLiveServer { port in
            try await ChildProcess.run(
                python,
                arguments: [
                    script.path, "--endpoint", "http://127.0.0.1:\(port)", "--region", Fixture.region,
                    "--access-key-id", Fixture.admin.accessKeyId,
                    "--secret-access-key", Fixture.admin.secretAccessKey,
                ],
                mergingErrors: true
            )
        }
        #expect(run.status == 0, "boto3 peer failed:\n\(run.output)")
    }
}

extension LiveServerTests {
    /// A chunked body (no `Content-Length`) over the limit is refused once it passes 1 MiB.
    @Test func aChunkedOversizeBodyIs413() async throws {
        try await withLiveServer { port in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: AWSJSON.contentType)
            request.headers.add(name: "X-Amz-Target", value: "TrentService.ListKeys")
            let chunks = [
                ByteBuffer(repeating: UInt8(ascii: " "), count: 1_048_576), ByteBuffer(repeating: UInt8(ascii: " "), count: 1),
            ]
            request.body = .stream(chunks.async, length: .unknown)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 413)
            #expect(response.headers.first(name: "Content-Type") == AWSJSON.contentType)
            let body = try await response.body.collect(upTo: 4096)
            let shape = try AWSJSON.decoder().decode(AWSErrorShape.self, from: Data(body.readableBytesView))
            #expect(shape.code == "RequestEntityTooLargeException")
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence.
    fileprivate var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
