import Foundation
import SealedTesting
import SigV4
import Testing

/// The pytest suites against `sealed serve` on a free loopback port, with boto3 from the peers' venv:
/// `test_kms_server.py` drives every KMS operation, its response shapes, its errors and the key-state rules;
/// `test_access_story.py` the identities, catalog, access requests and STS role sessions with the `sealed` CLI and
/// boto3's KMS and STS clients; `test_event_platform.py` the event platform with a Python consumer (the official
/// ESDK and boto3) opening events the Swift SDK sealed, and checking their binding; `test_dynamodb_server.py` the
/// DynamoDB subset with boto3 and the aws CLI; `test_mpl_keystore.py` the official Python MPL's branch keystore and
/// hierarchical keyring over the server's DynamoDB and KMS; `test_console.py` the web console in Debian's chromium
/// driven by Selenium (it skips without chromium unless `CI=true`) and with raw HTTP, writing the README's screenshots;
/// `test_console_audit.py` the console's audit pages (the auditor's story, the export verified by the CLI).
struct PytestSuiteTests {
    @Test(arguments: [
        "test_kms_server.py", "test_access_story.py", "test_event_platform.py", "test_dynamodb_server.py",
        "test_mpl_keystore.py", "test_console.py", "test_console_audit.py",
    ])
    func pytestSuitePassesAgainstSealedServe(file: String) async throws {
        guard let python = try TestEnvironment.peerPython() else { return }
        let suite = TestEnvironment.peerScripts.appendingPathComponent(file)
        try #require(FileManager.default.fileExists(atPath: suite.path), "missing \(suite.path)")
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServeCommandTests.RunningServer(dataDirectory: folder.appendingPathComponent("data"))
        defer { _ = server.stop() }
        let admin = try server.administrator

        // No cache folder and no bytecode: the run leaves nothing behind in the package.
        let run = try await ChildProcess.run(
            python,
            arguments: ["-m", "pytest", "-q", "-p", "no:cacheprovider", suite.path],
            environment: [
                "SEALED_KMS_ENDPOINT": server.endpoint.absoluteString,
                "SEALED_KMS_ACCESS_KEY_ID": admin.accessKeyId,
                "SEALED_KMS_SECRET_ACCESS_KEY": admin.secretAccessKey,
                "SEALED_BIN": try ESDKCommandTests.binary.path,
                "PYTHONDONTWRITEBYTECODE": "1",
                // boto3 talks to the loopback server directly, whatever proxy the environment names.
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
            ],
            directory: TestEnvironment.packageRoot,
            mergingErrors: true
        )
        #expect(run.status == 0, "pytest failed (exit \(run.status)):\n\(run.output)")
    }
}
