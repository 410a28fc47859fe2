import Foundation
import SealedTesting
import Testing

/// `sealed sigv4 vectors` as scripts use it: the built `sealed` binary, run as a process.
struct SigV4CommandTests {
    static func output(_ run: ESDKCommandTests.Run) -> String {
        String(decoding: run.stdout, as: UTF8.self)
    }

    @Test func fullSuitePasses() async throws {
        guard let folder = try TestEnvironment.vectors("sigv4") else { return }
        let run = try await ESDKCommandTests.sealed(["sigv4", "vectors", folder.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        // 27 cases × 8 header checks + 25 CRT cases × 7 query checks, less the two change checks of the
        // presigned URL that must be rejected (post-sts-header-after).
        #expect(Self.output(run) == "389 passed, 0 failed\n")
    }

    @Test func singleCaseFolders() async throws {
        guard let folder = try TestEnvironment.vectors("sigv4") else { return }
        let crt = try await ESDKCommandTests.sealed(["sigv4", "vectors", folder.appendingPathComponent("get-vanilla").path])
        #expect(crt.status == 0, "\(crt.stderr)")
        #expect(Self.output(crt) == "15 passed, 0 failed\n")

        let classic = try await ESDKCommandTests.sealed(
            ["sigv4", "vectors", folder.appendingPathComponent("classic-extra").path]
        )
        #expect(classic.status == 0, "\(classic.stderr)")
        #expect(Self.output(classic) == "16 passed, 0 failed\n")
    }

    @Test func knownExceptionIsAnExpectedRejection() async throws {
        guard let folder = try TestEnvironment.vectors("sigv4/post-sts-header-after") else { return }
        let run = try await ESDKCommandTests.sealed(["sigv4", "vectors", "--verbose", folder.path])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = Self.output(run).split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("PASS post-sts-header-after query/verify: rejected as expected") })
        #expect(!lines.contains { $0.hasPrefix("PASS post-sts-header-after query/one-byte changes") })
        #expect(lines.last == "13 passed, 0 failed")
    }

    @Test func changedExpectedSignatureIsOneFailure() async throws {
        guard let source = try TestEnvironment.vectors("sigv4/get-vanilla") else { return }
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("cases/get-vanilla")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: copy)
        let file = copy.appendingPathComponent("header-signature.txt")
        let signature = try String(contentsOf: file, encoding: .utf8)
        let changed = String(signature.dropLast()) + (signature.hasSuffix("0") ? "1" : "0")
        try Data(changed.utf8).write(to: file)

        let run = try await ESDKCommandTests.sealed(["sigv4", "vectors", folder.path])
        #expect(run.status != 0)
        #expect(run.stderr.isEmpty)
        let lines = Self.output(run).split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("FAIL ") }.count == 1)
        #expect(lines.first?.hasPrefix("FAIL cases/get-vanilla header/signature: ") == true, "\(lines)")
        #expect(lines.last == "14 passed, 1 failed")
    }

    @Test func missingOrEmptyPathIsOneLineError() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for path in [folder.appendingPathComponent("missing").path, folder.path] {
            let run = try await ESDKCommandTests.sealed(["sigv4", "vectors", path])
            #expect(run.status != 0, "\(path)")
            #expect(run.stdout.isEmpty, "\(path)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && run.stderr.hasPrefix("error: "), "\(path): \(run.stderr)")
            #expect(run.stderr.contains(path))
        }
    }

    @Test func helpExplainsTheCounting() async throws {
        let run = try await ESDKCommandTests.sealed(["sigv4", "vectors", "--help"])
        #expect(run.status == 0)
        // Help is wrapped to the terminal width: compare with the line breaks undone.
        let text = Self.output(run).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for phrase in ["per check", "N passed, N failed", "classic layout", "post-sts-header-after", "--verbose"] {
            #expect(text.contains(phrase), "\(phrase) missing from help")
        }
    }
}
