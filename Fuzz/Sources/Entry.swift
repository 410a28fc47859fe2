import Foundation

/// The harness's entry point: picks the target `SEALED_FUZZ_TARGET` names (`scripts/fuzz` sets it), then hands the
/// command line to libFuzzer's driver, so one sanitized build serves every target and libFuzzer's options apply.
///
/// A target returns normally for any input its parser refuses: a refusal is the parser working. It stops the
/// process only through a property it checks (`FuzzCheck.fail`) or a crash the sanitizers catch, and libFuzzer then
/// keeps the input as a reproducer.
@main
enum SealedFuzz {
    nonisolated(unsafe) static var selected: FuzzTarget?

    static func main() {
        let name = ProcessInfo.processInfo.environment["SEALED_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
            let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data("sealed-fuzz: set SEALED_FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(2)
        }
        selected = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in
            SealedFuzz.selected?.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}

/// libFuzzer's driver (`-sanitize=fuzzer` links it): parses the options, runs the corpus and the mutation loop.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One fuzz target: a name (its corpus folder, `Fuzz/Corpus/<name>`) and what it does with one input.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable (UnsafeRawBufferPointer) -> Void

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "esdk-header", run: ESDKTargets.header),
        FuzzTarget(name: "esdk-decrypt", run: ESDKTargets.decrypt),
        FuzzTarget(name: "sigv4", run: SigV4Targets.verify),
        FuzzTarget(name: "iam-policy", run: PolicyTargets.parseAndEvaluate),
        FuzzTarget(name: "json", run: JSONTargets.parsers),
        FuzzTarget(name: "kms-json", run: KMSShapeTargets.decode),
        FuzzTarget(name: "sts-query", run: STSTargets.query),
        FuzzTarget(name: "nats-protocol", run: NATSTargets.decode),
        FuzzTarget(name: "event-envelope", run: EventTargets.envelope),
        FuzzTarget(name: "event-stream-line", run: EventTargets.streamLine),
        FuzzTarget(name: "audit-record", run: AuditTargets.record),
        FuzzTarget(name: "base64", run: EncodingTargets.base64),
        FuzzTarget(name: "json-pointer", run: EncodingTargets.jsonPointer),
    ]
}

/// What the targets share.
enum FuzzCheck {
    /// Stops the run on a broken property; libFuzzer keeps the input (the process dies by `SIGABRT`).
    static func fail(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        FileHandle.standardError.write(Data("sealed-fuzz: property broken at \(file):\(line): \(message())\n".utf8))
        abort()
    }

    static func require(
        _ condition: Bool,
        _ message: @autoclosure () -> String,
        file: StaticString = #fileID,
        line: UInt = #line
    ) {
        if !condition { fail(message(), file: file, line: line) }
    }

    /// Runs async work to its end from libFuzzer's synchronous callback.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await work()
            done.signal()
        }
        done.wait()
        return box.value!
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Reads a structured input: fields split from the fuzzer's bytes, so that one byte string drives several choices.
struct FuzzReader {
    private(set) var bytes: ArraySlice<UInt8>

    init(_ buffer: UnsafeRawBufferPointer) { bytes = ArraySlice(buffer) }

    var isEmpty: Bool { bytes.isEmpty }

    /// One byte (0 when the input is used up).
    mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

    /// The bytes up to the next `separator` (or the end), the separator consumed.
    mutating func field(separator: UInt8 = 0) -> ArraySlice<UInt8> {
        guard let end = bytes.firstIndex(of: separator) else {
            defer { bytes = bytes[bytes.endIndex...] }
            return bytes
        }
        defer { bytes = bytes[(end + 1)...] }
        return bytes[..<end]
    }

    /// A field decoded as UTF-8 (invalid sequences repaired, as a server reading text would).
    mutating func text(separator: UInt8 = 0) -> String { String(decoding: field(separator: separator), as: UTF8.self) }

    /// What is left.
    mutating func rest() -> ArraySlice<UInt8> {
        defer { bytes = bytes[bytes.endIndex...] }
        return bytes
    }
}
