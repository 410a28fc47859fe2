import Foundation
import SealedTesting
import SigV4
import Testing

/// The pytest suite `scripts/peers/test_kms_server.py` (boto3 from the peers' venv) against `sealed serve` on a free
/// loopback port: every KMS operation, its response shapes, its errors and the key-state rules.
struct PytestSuiteTests {
    @Test func pytestSuitePassesAgainstSealedServe() throws {
        guard let python = try TestEnvironment.peerPython() else { return }
        let suite = TestEnvironment.peerScripts.appendingPathComponent("test_kms_server.py")
        try #require(FileManager.default.fileExists(atPath: suite.path), "missing \(suite.path)")
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServeCommandTests.RunningServer(dataDirectory: folder.appendingPathComponent("data"))
        defer { _ = server.stop() }
        let admin = try server.administrator

        let process = Process()
        process.executableURL = python
        // No cache folder and no bytecode: the run leaves nothing behind in the package.
        process.arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", suite.path]
        process.currentDirectoryURL = TestEnvironment.packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging([
            "SEALED_KMS_ENDPOINT": server.endpoint.absoluteString,
            "SEALED_KMS_ACCESS_KEY_ID": admin.accessKeyId,
            "SEALED_KMS_SECRET_ACCESS_KEY": admin.secretAccessKey,
            "PYTHONDONTWRITEBYTECODE": "1",
            // boto3 talks to the loopback server directly, whatever proxy the environment names.
            "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read to the end before waiting, so a long report cannot fill the pipe and block pytest.
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "pytest failed (exit \(process.terminationStatus)):\n\(report)")
    }
}
