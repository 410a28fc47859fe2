import Foundation
import SealedSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The POSIX calls of the data directory: modes are set when a file is created, never after, so no secret is ever
/// readable by others, not even for an instant.
enum FileSystem {
    /// An SQLite database's files: the database and its `-wal` and `-shm` companions.
    static func databaseFiles(_ url: URL) -> [URL] {
        ["", "-wal", "-shm"].map { URL(fileURLWithPath: url.path + $0) }
    }

    static func exists(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0
    }

    /// The permission bits of `url`, or `nil` when it does not exist.
    static func mode(of url: URL) throws -> mode_t? {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw failure("read the attributes of", url)
        }
        return info.st_mode & 0o7777
    }

    /// Creates `url` with mode 0700 (and its missing parents) unless it exists; refuses a path that is not a directory.
    ///
    /// An existing directory that group or others may read, write or enter is tightened to 0700.
    static func ensureDirectory(_ url: URL) throws {
        var info = stat()
        if stat(url.path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw StorageError(.notADirectory, "\(url.path) exists and is not a directory.")
            }
            if info.st_mode & 0o077 != 0 {
                guard chmod(url.path, info.st_mode & 0o700 | 0o700) == 0 else { throw failure("set the mode of", url) }
            }
            return
        }
        let parent = url.deletingLastPathComponent()
        if !exists(parent) {
            do {
                try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            } catch {
                throw failure("create", parent)
            }
        }
        guard mkdir(url.path, 0o700) == 0 else { throw failure("create", url) }
        // The process's umask may have removed bits, never added any; set the mode exactly anyway.
        guard chmod(url.path, 0o700) == 0 else { throw failure("set the mode of", url) }
    }

    /// Makes sure the data file `url` can be read and written by its owner only: creates it empty with mode 0600
    /// (`O_EXCL`) when absent, so SQLite, which gives its `-wal` and `-shm` files the database's mode, opens a
    /// private file; an existing file (and its `-wal` and `-shm`) that group or others may use is tightened to 0600.
    static func ensurePrivateFile(_ url: URL) throws {
        for file in databaseFiles(url) {
            if let mode = try mode(of: file), mode & 0o077 != 0 {
                guard chmod(file.path, 0o600) == 0 else { throw failure("set the mode of", file) }
            }
        }
        if !exists(url) {
            let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                if errno == EEXIST { return }  // created meanwhile by another opener: checked above or its own
                throw failure("create", url)
            }
            defer { close(descriptor) }
            guard fchmod(descriptor, 0o600) == 0 else { throw failure("set the mode of", url) }
        }
    }

    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw failure("read", url)
        }
    }

    /// Creates `url`, which must not exist, with `mode`, and writes `contents` durably (``DurableFile``).
    static func writeNewFile(_ url: URL, contents: Data, mode: mode_t) throws {
        do {
            try DurableFile.write(contents, to: url, mode: mode, replacingExisting: false)
        } catch let error as FileSystemError {
            throw StorageError(.fileSystem, error.description)
        }
    }

    /// Writes `contents` to a new file beside `url` with `mode`, then renames it over `url` (``DurableFile``).
    static func replaceFile(_ url: URL, contents: Data, mode: mode_t) throws {
        do {
            try DurableFile.write(contents, to: url, mode: mode)
        } catch let error as FileSystemError {
            throw StorageError(.fileSystem, error.description)
        }
    }

    private static func failure(_ action: String, _ url: URL) -> StorageError {
        let reason = String(cString: strerror(errno))
        return StorageError(.fileSystem, "Could not \(action) \(url.path): \(reason).")
    }
}
