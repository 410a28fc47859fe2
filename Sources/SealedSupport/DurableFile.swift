package import Foundation

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// A file written all-or-nothing and durably: staged in a new file beside its target (`O_EXCL`, created with its
/// final mode, so nobody else can read it at any moment), synced, renamed (or linked) to its name, and the directory
/// synced, so after ``commit(replacingExisting:)`` returns the file survives a crash, and a crash or a failure before
/// leaves nothing under the name. An uncommitted file is removed when the value goes away.
package final class DurableFile {
    /// The file's final location.
    package let url: URL
    /// The staging file beside it, `.<name>.<uuid>.tmp`.
    package let temporaryURL: URL
    private var descriptor: Int32

    /// Creates the staging file for `url` with `mode` (exactly, whatever the umask).
    ///
    /// - Throws: ``FileSystemError``.
    package init(for url: URL, mode: mode_t) throws {
        self.url = url
        temporaryURL = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(Random.uuid().uuidString).tmp")
        descriptor = open(temporaryURL.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw FileSystemError("create", temporaryURL) }
        guard fchmod(descriptor, mode) == 0 else {
            let error = FileSystemError("set the mode of", temporaryURL)
            close(descriptor)
            unlink(temporaryURL.path)
            descriptor = -1
            throw error
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if descriptor != Self.committed { unlink(temporaryURL.path) }
    }

    /// Marks a committed file (its descriptor closed, its staging file gone).
    private static let committed: Int32 = -2

    /// Appends `bytes`.
    ///
    /// - Throws: ``FileSystemError``.
    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(descriptor >= 0, "write to a committed or failed DurableFile")
        var offset = 0
        while offset < bytes.count {
            let written = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("write", temporaryURL)
            }
            offset += written
        }
    }

    /// Appends `bytes`.
    ///
    /// - Throws: ``FileSystemError``.
    package func write(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Syncs the file, gives it its name and syncs the directory. With `replacingExisting` (the default) the file
    /// replaces whatever has the name; without, the name must be free (the file is linked, not renamed), and a taken
    /// name throws with `errno` `EEXIST`. The staging file is gone afterwards, whatever happened.
    ///
    /// - Throws: ``FileSystemError``.
    package func commit(replacingExisting: Bool = true) throws {
        precondition(descriptor >= 0, "commit of a committed or failed DurableFile")
        let descriptor = self.descriptor
        // Closed below whatever happens; `deinit` removes the staging file unless the commit succeeds.
        self.descriptor = -1
        guard fsync(descriptor) == 0 else {
            let error = FileSystemError("write", temporaryURL)
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw FileSystemError("write", temporaryURL) }
        if replacingExisting {
            guard rename(temporaryURL.path, url.path) == 0 else { throw FileSystemError("replace", url) }
        } else {
            guard link(temporaryURL.path, url.path) == 0 else { throw FileSystemError("create", url) }
            unlink(temporaryURL.path)
        }
        self.descriptor = Self.committed
        // The new name is durable once the directory is synced.
        Self.syncDirectory(of: url)
    }

    /// Gives up: closes and removes the staging file (what going away does, now).
    package func discard() {
        if descriptor >= 0 { close(descriptor) }
        if descriptor != Self.committed { unlink(temporaryURL.path) }
        descriptor = Self.committed
    }

    /// Writes `contents` to `url` durably with `mode`: ``init(for:mode:)``, ``write(_:)-(UnsafeRawBufferPointer)``
    /// and ``commit(replacingExisting:)``.
    ///
    /// - Throws: ``FileSystemError``; nothing is left under `url` or beside it.
    package static func write(
        _ contents: some ContiguousBytes,
        to url: URL,
        mode: mode_t,
        replacingExisting: Bool = true
    ) throws {
        let file = try DurableFile(for: url, mode: mode)
        try file.write(contents)
        try file.commit(replacingExisting: replacingExisting)
    }

    /// Syncs the directory that holds `url`, making a rename or link in it durable; best effort.
    package static func syncDirectory(of url: URL) {
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return }
        _ = fsync(directory)
        close(directory)
    }
}

/// `write(2)`, under a name the method ``DurableFile/write(_:)-(UnsafeRawBufferPointer)`` does not shadow.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// A file-system call that failed: what was being done, to which path, and `errno`.
package struct FileSystemError: Error, CustomStringConvertible {
    /// What was being done: `create`, `set the mode of`, `write`, `replace`.
    package var action: String
    /// The path it was done to.
    package var path: String
    /// The `errno` of the failed call.
    package var code: Int32

    /// An error for the current `errno`.
    package init(_ action: String, _ url: URL) {
        self.action = action
        self.path = url.path
        self.code = errno
    }

    /// `strerror` of ``code``.
    package var reason: String { String(cString: strerror(code)) }

    /// `Could not <action> <path>: <reason>.`
    package var description: String { "Could not \(action) \(path): \(reason)." }
}
