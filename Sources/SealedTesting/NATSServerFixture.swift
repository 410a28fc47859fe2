public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real `nats-server` process on a free loopback port, with JetStream in its own store directory.
///
/// The binary comes from `$NATS_SERVER`, `PATH` or `/usr/sbin` (Debian's `nats-server` package). When it
/// is missing, ``binary()`` fails the test with `CI=true` and otherwise prints a skip note.
public final class NATSServer: Sendable {
    public let binary: URL
    public let port: Int
    public let storeDirectory: URL
    public let logFile: URL
    public let extraArguments: [String]
    private let ownsStore: Bool
    /// The running server; `nil` once stopped or killed.
    private let process: Mutex<SpawnedProcess?>

    /// The `nats-server` binary, or `nil` (with a printed note) when it is missing outside CI.
    public static func binary() throws -> URL? {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["NATS_SERVER"], !explicit.isEmpty { candidates.append(explicit) }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/nats-server")
        }
        candidates.append(contentsOf: ["/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"])
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return URL(fileURLWithPath: found)
        }
        if TestEnvironment.isCI {
            throw TestEnvironment.Missing(
                description:
                    "nats-server not found on PATH or in /usr/sbin with CI=true (install the Debian package nats-server)"
            )
        }
        print("note: skipping, nats-server not found on PATH or in /usr/sbin (install the Debian package nats-server)")
        return nil
    }

    /// Starts a server and waits until it accepts TCP connections.
    ///
    /// - Parameters:
    ///   - binary: The `nats-server` binary.
    ///   - port: The client port; a free one when `nil`.
    ///   - storeDirectory: The JetStream store; a new temporary folder when `nil`.
    ///   - arguments: More arguments (auth, cluster, config file).
    public init(binary: URL, port: Int? = nil, storeDirectory: URL? = nil, arguments: [String] = []) throws {
        self.binary = binary
        self.port = try port ?? Self.freePort()
        let store = try storeDirectory ?? Self.temporaryDirectory()
        self.storeDirectory = store
        self.ownsStore = storeDirectory == nil
        self.logFile = store.appendingPathComponent("server-\(self.port).log")
        self.extraArguments = arguments
        self.process = Mutex(nil)
        try start()
    }

    deinit {
        kill()
        if ownsStore { try? FileManager.default.removeItem(at: storeDirectory) }
    }

    /// The client URL.
    public var url: String { "nats://127.0.0.1:\(port)" }

    /// Starts the process (again) with the same port, store and arguments.
    public func start() throws {
        let process = try SpawnedProcess(
            binary,
            arguments: [
                "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDirectory.path, "-l", logFile.path,
            ] + extraArguments
        )
        self.process.withLock { $0 = process }
        try waitUntilAccepting()
    }

    /// Stops the server gracefully (SIGTERM) and waits for it to exit.
    public func stop() {
        let taken = process.withLock { process in
            defer { process = nil }
            return process
        }
        guard let process = taken, process.isRunning else { return }
        process.terminate()
        // A server still there a minute later is killed rather than waited for forever.
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    /// Kills the server without warning (SIGKILL), as a crash would.
    public func kill() {
        let taken = process.withLock { process in
            defer { process = nil }
            return process
        }
        guard let process = taken else { return }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    /// The server's log, for failure messages.
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? "(no log)"
    }

    private func waitUntilAccepting() throws {
        for _ in 0..<200 {
            if Self.canConnect(port: port) { return }
            let running = process.withLock { $0?.isRunning ?? false }
            if !running { break }
            usleep(50_000)
        }
        throw FixtureError(description: "nats-server on port \(port) did not start; log:\n\(log())")
    }

    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nats-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A loopback port that was free a moment ago (bound to port 0, then released).
    public static func freePort() throws -> Int {
        let (fd, port) = try boundSocket()
        close(fd)
        return port
    }

    /// Runs `body` with a loopback port that refuses connections for as long as `body` runs: it is bound by this
    /// process but not listening, so no other process can take it meanwhile (a port found free and then closed may be
    /// handed to a server that another test starts).
    public static func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
        let (fd, port) = try boundSocket()
        defer { close(fd) }
        return try await body(port)
    }

    /// A TCP socket bound to a free loopback port, not listening, and that port.
    private static func boundSocket() throws -> (CInt, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            close(fd)
            throw FixtureError(description: bound == 0 ? "getsockname() failed" : "bind() failed")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}

/// Three JetStream servers clustered on loopback, each with its own store.
public final class NATSCluster: Sendable {
    public let nodes: [NATSServer]
    public let names: [String]

    public init(binary: URL) throws {
        let clientPorts = try (0..<3).map { _ in try NATSServer.freePort() }
        let clusterPorts = try (0..<3).map { _ in try NATSServer.freePort() }
        let clusterName = "c\(UUID().uuidString.prefix(8))"
        names = (0..<3).map { "n\($0 + 1)-\(clusterName)" }
        var nodes: [NATSServer] = []
        for index in 0..<3 {
            let routes = (0..<3).filter { $0 != index }.map { "nats://127.0.0.1:\(clusterPorts[$0])" }
            nodes.append(
                try NATSServer(
                    binary: binary,
                    port: clientPorts[index],
                    arguments: [
                        "--server_name", names[index], "--cluster_name", clusterName,
                        "--cluster", "nats://127.0.0.1:\(clusterPorts[index])", "--routes",
                        routes.joined(separator: ","),
                    ]
                )
            )
        }
        self.nodes = nodes
    }

    /// All client URLs, comma-separated, starting with node `first`.
    public func urls(startingAt first: Int = 0) -> String {
        (0..<3).map { nodes[(first + $0) % 3].url }.joined(separator: ",")
    }

    public func stopAll() {
        for node in nodes { node.kill() }
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
