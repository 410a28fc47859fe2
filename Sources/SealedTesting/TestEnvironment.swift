public import Foundation

/// Where the tests find what they need from outside the package: the shared test vectors and the
/// real peers that `scripts/test` installs.
///
/// Every lookup follows one rule: when the thing is missing, a local run skips the test that needs it
/// (and says so), but a CI run (`CI=true`) fails, so a peer can never drop out of CI quietly.
public enum TestEnvironment {
    /// The package's root folder (the one holding `Package.swift`).
    public static let packageRoot: URL = {
        // This file is Sources/SealedTesting/TestEnvironment.swift.
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
    }()

    /// Whether this run is a CI run, where missing vectors or peers are failures.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    }

    /// The shared vectors folder: `$SEALED_VECTORS`, or `../shared/vectors` beside the package.
    public static var vectorsRoot: URL {
        if let path = ProcessInfo.processInfo.environment["SEALED_VECTORS"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors", isDirectory: true)
    }

    /// A subfolder of the vectors, or `nil` when it does not exist.
    ///
    /// - Throws: ``Missing`` when the folder is absent on CI.
    public static func vectors(_ relativePath: String) throws -> URL? {
        let url = vectorsRoot.appendingPathComponent(relativePath, isDirectory: true)
        return try require(url, what: "test vectors", hint: "set SEALED_VECTORS to the shared vectors folder")
    }

    /// The Python interpreter of the peers' virtual environment (`$SEALED_PEER_PYTHON`, or
    /// `.venv/bin/python` in the package), or `nil` when it is not installed.
    ///
    /// - Throws: ``Missing`` when it is absent on CI.
    public static func peerPython() throws -> URL? {
        let path = ProcessInfo.processInfo.environment["SEALED_PEER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        let url = path.map { URL(fileURLWithPath: $0) } ?? packageRoot.appendingPathComponent(".venv/bin/python")
        return try require(url, what: "the Python peers", hint: "run scripts/test, which creates the venv")
    }

    /// A command of the peers' virtual environment (`.venv/bin/NAME`, beside ``peerPython()``), or `nil` when the venv
    /// or the command is not installed.
    ///
    /// - Throws: ``Missing`` when it is absent on CI.
    public static func peerCommand(_ name: String) throws -> URL? {
        guard let python = try peerPython() else { return nil }
        let url = python.deletingLastPathComponent().appendingPathComponent(name)
        return try require(url, what: "the peer command \(name)", hint: "run scripts/test, which installs the pins")
    }

    /// The built `sealed` binary: beside the test bundle in `.build/<triple>/debug`, or the usual debug path.
    ///
    /// - Throws: ``Missing`` when it is not built.
    public static var sealedBinary: URL {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                    "sealed"
                ),
                packageRoot.appendingPathComponent(".build/debug/sealed"),
            ]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw Missing(description: "the sealed binary is not built (run swift build first)")
            }
            return found
        }
    }

    /// The folder of the peer scripts (`scripts/peers`).
    public static var peerScripts: URL {
        packageRoot.appendingPathComponent("scripts/peers", isDirectory: true)
    }

    /// A required external resource is missing on CI.
    public struct Missing: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private static func require(_ url: URL, what: String, hint: String) throws -> URL? {
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if isCI { throw Missing(description: "\(what) missing at \(url.path) with CI=true (\(hint))") }
        print("note: skipping, \(what) not found at \(url.path) (\(hint))")
        return nil
    }
}
