internal import ArgumentParser
internal import EncryptionSDK
internal import Foundation
internal import SealedSupport

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// A one-line failure the CLI reports on standard error.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// Runs `body`; any error becomes one line on standard error and exit status 1.
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let message: String
            switch error {
            case let error as EncryptionSDKError: message = error.reason
            case let error as CLIError: message = error.description
            default: message = String(describing: error)
            }
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Reads a file (or standard input) as an async sequence of chunks.
struct InputFile {
    let chunks: FileChunks
    /// The file's size when it is a regular file.
    let size: Int?

    init(_ path: String) throws {
        if path == "-" {
            chunks = FileChunks(descriptor: STDIN_FILENO)
            size = nil
            return
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        size = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        chunks = FileChunks(descriptor: fd)
    }
}

/// Chunks read from a file descriptor, 1 MiB at a time.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let descriptor: Int32

    func makeAsyncIterator() -> Iterator { Iterator(descriptor: descriptor) }

    struct Iterator: AsyncIteratorProtocol {
        let descriptor: Int32

        mutating func next() async throws -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var filled = 0
            while filled < buffer.count {
                let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CLIError("read failed: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                filled += n
            }
            guard filled > 0 else { return nil }
            buffer.removeLast(buffer.count - filled)
            return buffer
        }
    }
}

/// Writes a stream all-or-nothing: to standard output once it has ended without error, or durably to a
/// temporary file (mode 0600) beside the target, renamed into place on success and removed otherwise (`DurableFile`).
enum OutputFile {
    static func write<S: AsyncSequence>(_ stream: S, to path: String) async throws where S.Element == [UInt8] {
        if path == "-" {
            var all: [UInt8] = []
            for try await chunk in stream { all.append(contentsOf: chunk) }
            try writeAll(STDOUT_FILENO, all)
            return
        }
        let target = URL(fileURLWithPath: path)
        do {
            let file = try DurableFile(for: target, mode: 0o600)
            for try await chunk in stream { try file.write(chunk) }
            try file.commit()
        } catch let error as FileSystemError {
            throw CLIError("cannot write \(path): \(error.reason)")
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError("write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}
