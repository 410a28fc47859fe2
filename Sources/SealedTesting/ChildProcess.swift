public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program to completion without holding a thread of Swift's concurrency pool while it runs.
///
/// The pool is small (a thread per core), and a server running in the test process needs it to answer the child: a
/// test that blocks a pool thread in `waitUntilExit` or `readDataToEndOfFile` slows every other test and, with a few
/// such tests at once, can stall the run. Here the pipes are drained on threads of their own (so a chatty child never
/// blocks on a full pipe, whichever stream it fills) and the exit is awaited through `terminationHandler`.
public enum ChildProcess {
    /// How the program ended and what it wrote.
    public struct Outcome: Sendable {
        public let status: Int32
        public let standardOutput: Data
        /// Standard error; empty when it was merged into ``standardOutput``.
        public let standardError: Data
        /// The program was stopped because it outran its deadline.
        public let timedOut: Bool

        public var output: String { String(decoding: standardOutput, as: UTF8.self) }
        public var errors: String { String(decoding: standardError, as: UTF8.self) }
    }

    /// - Parameters:
    ///   - executable: The program.
    ///   - arguments: Its arguments.
    ///   - environment: Variables added to (or replacing those of) this process's environment.
    ///   - directory: The working directory; this process's when `nil`.
    ///   - input: Written to the program's standard input, which is then closed; `nil` gives it `/dev/null`.
    ///   - mergingErrors: Standard error goes to the standard output pipe (one interleaved text).
    ///   - deadline: After this long the program gets SIGTERM, and SIGKILL five seconds later.
    ///   A cancelled task stops the program the same way.
    public static func run(
        _ executable: URL,
        arguments: [String],
        environment: [String: String] = [:],
        directory: URL? = nil,
        input: Data? = nil,
        mergingErrors: Bool = false,
        deadline: Duration? = nil
    ) async throws -> Outcome {
        let output = Pipe()
        let errors = mergingErrors ? output : Pipe()
        let inputPipe = input.map { _ in Pipe() }
        let (exits, exit) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))
        _ = ignoreBrokenPipes
        let process = try SpawnedProcess(
            executable,
            arguments: arguments,
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory,
            standardInput: inputPipe?.fileHandleForReading,
            standardOutput: output.fileHandleForWriting,
            standardError: errors.fileHandleForWriting
        ) { status in
            exit.yield(status)
            exit.finish()
        }
        // The child's ends of the pipes are the child's alone now: the readers see the end when it closes them.
        try? output.fileHandleForWriting.close()
        if !mergingErrors { try? errors.fileHandleForWriting.close() }
        try? inputPipe?.fileHandleForReading.close()
        // A program that started a daemon (`pg_ctl start`) may leave the pipe open in that daemon long after it exited
        // itself: once the program has exited, its output is taken as it stands a few seconds later, ended or not.
        let standardOutput = PipeReader(output.fileHandleForReading)
        let standardError = mergingErrors ? nil : PipeReader(errors.fileHandleForReading)
        async let fed: Void = feed(input, to: inputPipe?.fileHandleForWriting)
        let child = Child(process)
        let stopper = deadline.map { deadline in
            Task {
                try await Task.sleep(for: deadline)
                child.timedOut.withLock { $0 = true }
                child.stop()
            }
        }
        let status = await withTaskCancellationHandler {
            var status: Int32 = -1
            for await code in exits { status = code }
            return status
        } onCancel: {
            child.stop()
        }
        stopper?.cancel()
        await fed
        return Outcome(
            status: status,
            standardOutput: await standardOutput.contents(within: 5),
            standardError: await standardError?.contents(within: 5) ?? Data(),
            timedOut: child.timedOut.withLock { $0 }
        )
    }

    /// The running program, shared with the task that stops it at its deadline or on cancellation.
    private final class Child: Sendable {
        let process: SpawnedProcess
        let timedOut = Mutex(false)

        init(_ process: SpawnedProcess) { self.process = process }

        /// SIGTERM now, SIGKILL five seconds later if the program is still there.
        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            Thread.detachNewThread { [process] in
                Thread.sleep(forTimeInterval: 5)
                process.signal(SIGKILL)
            }
        }
    }

    /// Writes the input and closes the pipe, on a thread of its own (the child may read slowly, or not at all).
    private static func feed(_ data: Data?, to handle: FileHandle?) async {
        guard let data, let handle else { return }
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                try? handle.write(contentsOf: data)
                try? handle.close()
                continuation.resume()
            }
        }
    }

    /// A child that exits before reading all its input makes the write fail with EPIPE, not kill the tests.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}

extension FileHandle {
    /// The next bytes the pipe holds, waiting for some; `nil` at its end (or on an error). A read interrupted by a
    /// signal (`EINTR`: SIGCHLD arrives often in a test run) is retried, where `availableData` would stop the process.
    func nextChunk() -> Data? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 { return Data(buffer[..<count]) }
            if count < 0, errno == EINTR { continue }
            return nil
        }
    }
}

/// Reads a pipe on a thread of its own until it ends, keeping what it read.
final class PipeReader: @unchecked Sendable {
    private let condition = NSCondition()
    private var data = Data()
    private var ended = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while let chunk = handle.nextChunk() {
                condition.withLock {
                    data.append(chunk)
                    condition.broadcast()
                }
            }
            condition.withLock {
                ended = true
                condition.broadcast()
            }
        }
    }

    /// What was read once the pipe ended, `enough` holds of it, or `seconds` passed, whichever comes first. Blocks.
    func contents(within seconds: TimeInterval, enough: (Data) -> Bool = { _ in false }) -> Data {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while !ended, !enough(data), condition.wait(until: deadline) {}
            return data
        }
    }

    /// The same, waited for on a thread of its own rather than the caller's.
    func contents(within seconds: TimeInterval) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in continuation.resume(returning: contents(within: seconds)) }
        }
    }
}
