public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive, advisory lock on a data directory, held by the one server process that writes it.
///
/// `sealed serve` caches key records in memory (`CachingKeyStore`), which is only exact while it is the only writer,
/// so a second server on the same directory is refused instead of silently serving stale keys. The lock is a `flock`
/// on `DIR/serve.lock` (mode 0600): the kernel releases it when the process exits, however it exits, so a crash
/// never leaves a stale lock behind. Read-only tools (`sealed audit verify --data-dir`) do not take it.
public final class DirectoryLock: Sendable {
    public static let fileName = "serve.lock"

    /// The lock file's descriptor, owned by this object and closed once in `deinit`.
    private let descriptor: Int32
    public let url: URL

    /// Takes the lock of `directory` (created, mode 0700, when absent), without waiting.
    ///
    /// - Throws: ``StorageError`` `directoryInUse` when another process holds it, `fileSystem` when the lock file
    ///   cannot be opened, `notADirectory`.
    public init(directory: URL) throws {
        let directory = directory.standardizedFileURL
        try FileSystem.ensureDirectory(directory)
        url = directory.appendingPathComponent(Self.fileName)
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StorageError(.fileSystem, "cannot open \(url.path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(descriptor)
            if reason == EWOULDBLOCK {
                throw StorageError(
                    .directoryInUse,
                    "\(directory.path) is in use by another sealed serve process; stop it or choose another --data-dir"
                )
            }
            throw StorageError(.fileSystem, "cannot lock \(url.path): \(String(cString: strerror(reason)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
