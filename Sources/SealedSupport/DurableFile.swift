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
    private var state: State

    /// Where the file is in its life.
    private enum State {
        /// The staging file is open for writing.
        case open(Int32)
        /// The staging file is closed and must be removed (a failed write or commit).
        case failed
        /// Nothing is left to clean up: committed, discarded, or never created.
        case finished
    }

    /// Creates the staging file for `url` with `mode` (exactly, whatever the umask).
    ///
    /// - Throws: ``FileSystemError``.
    package init(for url: URL, mode: mode_t) throws {
        self.url = url
        temporaryURL = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(Random.uuid().uuidString).tmp")
        let descriptor = open(temporaryURL.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            state = .finished
            throw FileSystemError("create", temporaryURL)
        }
        state = .open(descriptor)
        guard fchmod(descriptor, mode) == 0 else {
            let error = FileSystemError("set the mode of", temporaryURL)
            discard()
            throw error
        }
    }

    deinit { discard() }

    /// The descriptor of the open staging file.
    private var descriptor: Int32 {
        guard case .open(let descriptor) = state else {
            preconditionFailure("a DurableFile used after its commit, its discard or a failed commit")
        }
        return descriptor
    }

    /// Appends `bytes`.
    ///
    /// - Throws: ``FileSystemError``.
    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        let descriptor = self.descriptor
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
        let descriptor = self.descriptor
        // Closed here whatever happens; a failure leaves the staging file to `discard()`.
        state = .failed
        defer { discard() }
        guard fsync(descriptor) == 0 else {
            let error = FileSystemError("write", temporaryURL)
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw FileSystemError("write", temporaryURL) }
        if replacingExisting {
            guard rename(temporaryURL.path, url.path) == 0 else { throw FileSystemError("replace", url) }
            state = .finished
        } else {
            guard link(temporaryURL.path, url.path) == 0 else { throw FileSystemError("create", url) }
        }
        // The new name is durable once the directory is synced.
        Self.syncDirectory(of: url)
    }

    /// Gives up: closes and removes the staging file (what going away does, now). Does nothing after a commit.
    package func discard() {
        switch state {
        case .open(let descriptor):
            close(descriptor)
            unlink(temporaryURL.path)
        case .failed:
            unlink(temporaryURL.path)
        case .finished:
            break
        }
        state = .finished
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
