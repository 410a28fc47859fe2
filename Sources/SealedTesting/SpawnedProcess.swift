public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, for the harness's servers, peers and tools.
///
/// Foundation's `Process.run()` is not used: on Linux it lists `/proc/self/fd` to close the parent's descriptors in
/// the child and copies each directory entry's whole 256-byte name field, reading past glibc's buffer when an entry
/// ends it, which crashes the test run now and then (swift-corelibs-foundation pull request 5472; Swift 6.3.1 has the
/// bug). Here the child closes every descriptor from 3 up with glibc's own file action (`closefrom`), so it inherits
/// only its standard streams, as with `Process`; it runs in a process group of its own, as with `Process`; and unlike
/// with `Process`, it starts with no signal blocked and every signal's default action, as a shell starts a command.
///
/// The exit is reaped on a thread of its own, which then runs `onExit`.
public final class SpawnedProcess: Sendable {
    /// The child's process id.
    public let processIdentifier: pid_t
    private let exit = Exit()

    /// Starts `executable`.
    ///
    /// - Parameters:
    ///   - environment: The child's whole environment; this process's when `nil`.
    ///   - directory: The working directory; this process's when `nil`.
    ///   - standardInput: The child's standard input; `/dev/null` when `nil`.
    ///   - standardOutput: The child's standard output; `/dev/null` when `nil`.
    ///   - standardError: The child's standard error; `/dev/null` when `nil`.
    ///   - onExit: Called once with ``terminationStatus`` when the child has exited (on the reaping thread).
    /// - Throws: `POSIXError` when the program cannot be started.
    public init(
        _ executable: URL,
        arguments: [String],
        environment: [String: String]? = nil,
        directory: URL? = nil,
        standardInput: FileHandle? = nil,
        standardOutput: FileHandle? = nil,
        standardError: FileHandle? = nil,
        onExit: (@Sendable (Int32) -> Void)? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        try Self.check(posix_spawn_file_actions_init(&actions))
        defer { posix_spawn_file_actions_destroy(&actions) }
        let streams = [standardInput, standardOutput, standardError]
        for (target, handle) in streams.enumerated() {
            if let handle {
                try Self.check(posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, Int32(target)))
            } else {
                let flags = target == 0 ? O_RDONLY : O_WRONLY
                try Self.check(posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", flags, 0))
            }
        }
        try Self.check(Self.closeFrom(&actions, 3))
        if let directory {
            try Self.check(Self.changeDirectory(&actions, directory.path))
        }
        var attributes = posix_spawnattr_t()
        try Self.check(posix_spawnattr_init(&attributes))
        defer { posix_spawnattr_destroy(&attributes) }
        // The calling thread is one of libdispatch's, which block most signals: a child would inherit that mask (and
        // this process's ignored SIGPIPE), and a SIGTERM sent to it would wait forever.
        var none = sigset_t()
        sigemptyset(&none)
        try Self.check(posix_spawnattr_setsigmask(&attributes, &none))
        var all = sigset_t()
        sigfillset(&all)
        try Self.check(posix_spawnattr_setsigdefault(&attributes, &all))
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        try Self.check(posix_spawnattr_setflags(&attributes, Int16(flags)))

        let argv = Self.cStrings([executable.path] + arguments)
        defer { Self.free(argv) }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = Self.cStrings(variables)
        defer { Self.free(envp) }
        var pid: pid_t = 0
        try Self.check(posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp))
        processIdentifier = pid
        Thread.detachNewThread { [exit, pid] in
            // Waits for the exit without reaping, so that the pid cannot be reused before `exit` knows.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1, errno == EINTR {}
            let code = exit.finish {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1, errno == EINTR {}
                // Foundation's convention: the exit code, or the signal that ended the child.
                return status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
            }
            onExit?(code)
        }
    }

    /// Whether the child has not been reaped yet.
    public var isRunning: Bool { exit.status == nil }

    /// The exit code, or the number of the signal that ended the child; `-1` while it runs.
    public var terminationStatus: Int32 { exit.status ?? -1 }

    /// Sends SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends `number` to the child; nothing once it has been reaped, so never to another process that reuses its pid.
    public func signal(_ number: Int32) {
        exit.whileRunning { _ = kill(processIdentifier, number) }
    }

    /// Blocks until the child has exited.
    public func waitUntilExit() { exit.wait() }

    /// The exit status, shared with the reaping thread.
    private final class Exit: Sendable {
        private let condition = NSCondition()
        private let code = Mutex<Int32?>(nil)

        var status: Int32? { code.withLock { $0 } }

        /// Reaps the child (`reap`) and records its status, so that no signal is sent once its pid is free.
        func finish(_ reap: () -> Int32) -> Int32 {
            condition.withLock {
                let status = code.withLock { code in
                    let status = reap()
                    code = status
                    return status
                }
                condition.broadcast()
                return status
            }
        }

        func wait() {
            condition.withLock {
                while code.withLock({ $0 }) == nil { condition.wait() }
            }
        }

        func whileRunning(_ body: () -> Void) {
            code.withLock { if $0 == nil { body() } }
        }
    }

    // MARK: - posix_spawn

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` and `posix_spawn_file_actions_addchdir_np` (glibc 2.34 and
    /// 2.29), which Swift's Glibc module does not declare.
    private static let closeFrom = glibc(
        "posix_spawn_file_actions_addclosefrom_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
    )
    private static let changeDirectory = glibc(
        "posix_spawn_file_actions_addchdir_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self
    )

    private static func glibc<Function>(_ name: String, as type: Function.Type) -> Function {
        guard let symbol = dlsym(nil, name) else { fatalError("SpawnedProcess needs glibc 2.34 or later (\(name))") }
        return unsafeBitCast(symbol, to: type)
    }

    private static func check(_ result: Int32) throws {
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
    }

    private static func cStrings(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let buffer = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { buffer[index] = strdup(string) }
        buffer[strings.count] = nil
        return buffer
    }

    private static func free(_ buffer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        var index = 0
        while let string = buffer[index] {
            Glibc.free(string)
            index += 1
        }
        buffer.deallocate()
    }
}
