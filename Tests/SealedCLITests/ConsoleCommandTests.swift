import Foundation
import SealedTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `sealed console login` against `sealed serve`, and `--console off`.
struct ConsoleCommandTests {
    /// The status and body of a GET.
    static func get(_ url: URL) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func loginPrintsALinkThatSignsTheCallerIn() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServeCommandTests.RunningServer(dataDirectory: folder.appendingPathComponent("data"))
        defer { _ = server.stop() }
        let printed = String(decoding: try await server.cli(["console", "login"], json: false).stdout, as: UTF8.self)
        let line = try #require(printed.split(separator: "\n").first.map(String.init))
        var base = server.endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        #expect(line.hasPrefix(base + "/console/link?token="))
        let (status, page) = try await Self.get(try #require(URL(string: line)))
        #expect(status == 200)
        #expect(page.contains("arn:aws:iam::000000000000:user/"), "the page names who the link signs in as")
        #expect(page.contains(#"id="continue""#))

        let json = try await server.cli(["console", "login"]).stdout
        let answer = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect((answer["Path"] as? String)?.hasPrefix(base + "/console/link?token=") == true)
        #expect(answer["Expiration"] is String)
    }

    @Test func consoleOffServesNoConsoleAndNoLinks() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ServeCommandTests.RunningServer(
            dataDirectory: folder.appendingPathComponent("data"),
            arguments: ["--console", "off"]
        )
        defer { _ = server.stop() }
        let (status, _) = try await Self.get(server.endpoint.appendingPathComponent("console/sign-in"))
        #expect(status == 404)
        let run = try await ESDKCommandTests.sealed(
            ["console", "login", "--endpoint-url", server.endpoint.absoluteString, "--profile", "sealed-admin"],
            environment: [
                "AWS_SHARED_CREDENTIALS_FILE": server.administratorCredentialsFile.path, "AWS_CONFIG_FILE": "/nonexistent",
            ]
        )
        #expect(run.status == 1)
        #expect(run.stderr.contains("UnknownOperationException"))
    }
}
