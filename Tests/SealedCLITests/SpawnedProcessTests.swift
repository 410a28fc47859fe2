import Foundation
import SealedTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The harness's `posix_spawn` launcher (which replaced Foundation's `Process.run()`, whose descriptor scan crashes
/// test runs now and then): what the child gets, and how its end is reported.
struct SpawnedProcessTests {
    let shell = URL(fileURLWithPath: "/bin/sh")

    @Test func theExitCodeTheOutputTheEnvironmentAndTheDirectoryReachTheCaller() async throws {
        let directory = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        let outcome = try await ChildProcess.run(
            shell,
            arguments: ["-c", "pwd; echo \"$SPAWN_TEST\"; echo oops >&2; exit 3"],
            environment: ["SPAWN_TEST": "passed down"],
            directory: directory
        )
        #expect(outcome.status == 3)
        #expect(outcome.output == "\(directory.path)\npassed down\n")
        #expect(outcome.errors == "oops\n")
    }

    @Test func theChildInheritsOnlyItsStandardStreams() async throws {
        // A descriptor open in this process without close-on-exec, at a number no shell uses for itself: the lowest
        // free one from 600 up (never `dup2` onto a chosen number, which would close another test's descriptor).
        let opened = open("/dev/null", O_RDONLY)
        try #require(opened >= 0)
        defer { close(opened) }
        let high = fcntl(opened, F_DUPFD, 600)
        try #require(high >= 600)
        defer { close(high) }
        let outcome = try await ChildProcess.run(
            shell,
            arguments: ["-c", "for fd in 0 1 2 \(high); do [ -e /proc/self/fd/$fd ] && echo $fd; done; exit 0"],
            input: Data()
        )
        #expect(outcome.status == 0)
        #expect(outcome.output == "0\n1\n2\n")
    }

    @Test func aSignalledChildReportsItsSignal() throws {
        let child = try SpawnedProcess(URL(fileURLWithPath: "/bin/sleep"), arguments: ["30"])
        #expect(child.isRunning)
        #expect(child.terminationStatus == -1)
        child.terminate()
        child.waitUntilExit()
        #expect(!child.isRunning)
        #expect(child.terminationStatus == SIGTERM)
    }

    @Test func theExitHandlerHearsTheStatus() async throws {
        let (statuses, continuation) = AsyncStream.makeStream(of: Int32.self)
        let child = try SpawnedProcess(shell, arguments: ["-c", "exit 7"]) { status in
            continuation.yield(status)
            continuation.finish()
        }
        var heard: [Int32] = []
        for await status in statuses { heard.append(status) }
        #expect(heard == [7])
        #expect(child.terminationStatus == 7)
    }
}
