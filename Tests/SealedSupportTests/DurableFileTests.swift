import Foundation
import SealedSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct DurableFileTests {
    /// A new empty directory, removed after `body`.
    static func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    static func mode(_ url: URL) -> mode_t {
        var info = stat()
        return stat(url.path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    static func entries(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test(arguments: [mode_t(0o600), 0o644, 0o400])
    func writesWithTheModeAndLeavesNoTemporaryFile(mode: mode_t) throws {
        try Self.withDirectory { directory in
            let url = directory.appendingPathComponent("file")
            let previous = umask(0o077)
            defer { umask(previous) }
            try DurableFile.write(Data("one".utf8), to: url, mode: mode)
            #expect(try Data(contentsOf: url) == Data("one".utf8))
            #expect(Self.mode(url) == mode)
            #expect(try Self.entries(directory) == ["file"])
        }
    }

    @Test func replacesAnExistingFile() throws {
        try Self.withDirectory { directory in
            let url = directory.appendingPathComponent("file")
            try DurableFile.write(Data("one".utf8), to: url, mode: 0o644)
            try DurableFile.write(Data("two".utf8), to: url, mode: 0o600)
            #expect(try Data(contentsOf: url) == Data("two".utf8))
            #expect(Self.mode(url) == 0o600)
            #expect(try Self.entries(directory) == ["file"])
        }
    }

    @Test func withoutReplacingATakenNameFailsAndKeepsTheFile() throws {
        try Self.withDirectory { directory in
            let url = directory.appendingPathComponent("key")
            try DurableFile.write(Data("first".utf8), to: url, mode: 0o600, replacingExisting: false)
            #expect(Self.mode(url) == 0o600)
            let error = #expect(throws: FileSystemError.self) {
                try DurableFile.write(Data("second".utf8), to: url, mode: 0o600, replacingExisting: false)
            }
            #expect(error?.code == EEXIST)
            #expect(error?.description == "Could not create \(url.path): \(String(cString: strerror(EEXIST))).")
            #expect(try Data(contentsOf: url) == Data("first".utf8))
            #expect(try Self.entries(directory) == ["key"])
        }
    }

    @Test func streamsInPiecesAndAnUncommittedFileLeavesNothing() throws {
        try Self.withDirectory { directory in
            let url = directory.appendingPathComponent("export")
            do {
                let file = try DurableFile(for: url, mode: 0o600)
                try file.write([UInt8]("par".utf8))
                #expect(FileManager.default.fileExists(atPath: file.temporaryURL.path))
                #expect(file.temporaryURL.deletingLastPathComponent().path == directory.path)
                #expect(!FileManager.default.fileExists(atPath: url.path))
            }
            #expect(try Self.entries(directory) == [])

            let discarded = try DurableFile(for: url, mode: 0o600)
            try discarded.write(Data("x".utf8))
            discarded.discard()
            #expect(try Self.entries(directory) == [])

            let file = try DurableFile(for: url, mode: 0o600)
            for piece in ["a", "b", "c"] { try file.write(Data(piece.utf8)) }
            try file.commit()
            #expect(try Data(contentsOf: url) == Data("abc".utf8))
            #expect(try Self.entries(directory) == ["export"])
        }
    }

    @Test func aMissingDirectoryIsAFileSystemError() throws {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/file")
        let error = #expect(throws: FileSystemError.self) { try DurableFile.write(Data(), to: url, mode: 0o600) }
        #expect(error?.action == "create")
        #expect(error?.code == ENOENT)
    }
}
