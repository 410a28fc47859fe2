public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `sealed serve` as users run it: the built binary (``TestEnvironment/sealedBinary``) on a free loopback port with
/// a data directory, its log level at `warning`; started again on the same data, stopped with SIGTERM or killed with
/// SIGKILL. The endpoint is read from the first line the server prints (`sealed serve: listening on http://…`).
///
/// An in-process server needs no process: see `SealedServerTesting`.
public final class ServeProcess {
    /// The data directory the server uses.
    public var dataDirectory: URL { launch.dataDirectory }
    /// The temporary folder holding ``dataDirectory`` when this launcher made it; ``remove()`` deletes it.
    public var folder: URL? { launch.folder }
    /// `sealed serve`'s options beyond `--data-dir`, `--port 0` and `--log-level warning`.
    public var arguments: [String] { launch.arguments }
    /// Variables added to the test process's environment.
    public var environment: [String: String] { launch.environment }
    /// The PostgreSQL database of a replica (`--database`) instead of the data directory.
    public var database: String? { launch.database }
    /// How ``start()`` starts the server.
    private let launch: Launch
    /// Where the administrator's credentials are: `DATA_DIR/admin.credentials`, or for a replica the file the replica
    /// that installed the database wrote.
    public let administratorCredentialsFile: URL
    /// The running server.
    public private(set) var process: SpawnedProcess
    /// `http://127.0.0.1:PORT`.
    public private(set) var endpoint: URL

    /// Starts the server on `dataDirectory` (created on first start).
    public convenience init(dataDirectory: URL, arguments: [String] = [], environment: [String: String] = [:]) throws {
        try self.init(
            dataDirectory: dataDirectory,
            folder: nil,
            database: nil,
            administratorCredentialsFile: dataDirectory.appendingPathComponent("admin.credentials"),
            arguments: arguments,
            environment: environment
        )
    }

    /// Starts a replica on the PostgreSQL database `database` (`--database`), with `rootKey` (base64) in
    /// `SEALED_ROOT_KEY`, in a new temporary folder (see ``remove()``) that holds its standard error
    /// (`serve.stderr`). `administratorCredentials` is passed as `--admin-credentials-file`: the replica that installs
    /// the database writes it, the others leave it alone. `environment` is added to the replica's (AWS mode's
    /// credentials).
    public convenience init(
        database: String,
        rootKey: String,
        administratorCredentials: URL,
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-replica-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try self.init(
            dataDirectory: folder,
            folder: folder,
            database: database,
            administratorCredentialsFile: administratorCredentials,
            arguments: ["--admin-credentials-file", administratorCredentials.path] + arguments,
            environment: environment.merging(["SEALED_ROOT_KEY": rootKey]) { $1 }
        )
    }

    /// Starts the server on a fresh data directory in a new temporary folder (see ``remove()``).
    public convenience init(arguments: [String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let dataDirectory = folder.appendingPathComponent("data")
        try self.init(
            dataDirectory: dataDirectory,
            folder: folder,
            database: nil,
            administratorCredentialsFile: dataDirectory.appendingPathComponent("admin.credentials"),
            arguments: arguments,
            environment: [:]
        )
    }

    private init(
        dataDirectory: URL,
        folder: URL?,
        database: String?,
        administratorCredentialsFile: URL,
        arguments: [String],
        environment: [String: String]
    ) throws {
        self.administratorCredentialsFile = administratorCredentialsFile
        launch = Launch(
            dataDirectory: dataDirectory,
            folder: folder,
            database: database,
            arguments: arguments,
            environment: environment
        )
        (process, endpoint) = try launch.run()
    }

    /// Starts the server (again) on the data directory and waits for the line that names its port.
    ///
    /// - Throws: ``TestEnvironment/Missing`` when the binary is not built or the server does not start.
    public func start() throws {
        (process, endpoint) = try launch.run()
    }

    /// The server's command line and where its output goes.
    private struct Launch {
        let dataDirectory: URL
        let folder: URL?
        let database: String?
        let arguments: [String]
        let environment: [String: String]

        /// Starts the server and waits for the line that names its port.
        func run() throws -> (SpawnedProcess, URL) {
            let executable = try TestEnvironment.sealedBinary
            let storage = database.map { ["--database", $0] } ?? ["--data-dir", dataDirectory.path]
            let output = Pipe()
            var errorLog: FileHandle?
            if database != nil, let folder {
                let log = folder.appendingPathComponent("serve.stderr")
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                errorLog = try FileHandle(forWritingTo: log)
            }
            let process = try SpawnedProcess(
                executable,
                arguments: ["serve"] + storage + ["--port", "0", "--log-level", "warning"] + arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                standardOutput: output.fileHandleForWriting,
                standardError: errorLog
            )
            try? output.fileHandleForWriting.close()
            try? errorLog?.close()
            // Read on a thread of its own, for as long as the server runs: a server whose output nobody reads would
            // block once the pipe is full. The first line names the port; a server that prints none within a minute
            // failed.
            let reader = PipeReader(output.fileHandleForReading)
            let text = String(decoding: reader.contents(within: 60) { $0.contains(0x0A) }, as: UTF8.self)
            guard let range = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression),
                let url = URL(string: String(text[range]))
            else {
                process.terminate()
                let errors = folder.flatMap {
                    try? String(contentsOf: $0.appendingPathComponent("serve.stderr"), encoding: .utf8)
                }
                throw TestEnvironment.Missing(description: "sealed serve did not start: \(text)\(errors ?? "")")
            }
            return (process, url)
        }
    }

    /// What a replica (``init(database:rootKey:administratorCredentials:arguments:)``) wrote to its standard error so
    /// far (its warnings); empty for a server on a data directory, whose standard error is not kept.
    public var errors: String {
        guard database != nil, let folder else { return "" }
        return (try? String(contentsOf: folder.appendingPathComponent("serve.stderr"), encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then wait: a graceful stop exits 0. Returns the exit status (also when it had stopped already).
    /// A server still running a minute later is killed (SIGKILL; the status says so) rather than waited for forever.
    @discardableResult
    public func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        process.signal(SIGKILL)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL, then wait: the server has no chance to finish anything.
    public func kill9() {
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server if it runs and removes the temporary folder this launcher made.
    public func remove() {
        stop()
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }
}
