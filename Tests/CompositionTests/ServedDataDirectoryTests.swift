import AuditTrail
import Composition
import Foundation
import SealedTesting
import Testing

/// File modes: every file the server writes in its data directory is its owner's alone.
struct ServedDataDirectoryTests {
    /// Builds the platform `sealed serve` builds on a new data directory, records a call, signs a digest (the head
    /// file), and checks the mode of every file there.
    @Test func everyFileOfAFreshDataDirectoryIsMode0600() async throws {
        try await withTemporaryDirectory { parent in
            let url = parent.appendingPathComponent("data")
            let platform = try await SealedPlatform.build(
                SealedPlatformTests.sqlite(url),
                environment: [:],
                logger: SealedPlatformTests.logger
            )
            defer { platform.close() }
            try await platform.audit.store.record(SealedPlatformTests.record())
            let digests = try #require(platform.services.first as? DigestService<ContinuousClock>)
            try await digests.signIfNeeded()

            #expect(try permissions(url) == 0o700)
            let files = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            for name in [
                "root.key", "sealed.sqlite", "admin.credentials", "audit", "audit-signing.key", "audit-public-key.pem",
                "audit-head.json", "bus.sqlite", "bus.sqlite-wal", "serve.lock",
            ] {
                #expect(files.contains(name), "missing \(name) in \(files)")
            }
            for name in files where name != "audit" {
                #expect(try permissions(url.appendingPathComponent(name)) == 0o600, "\(name)")
            }
            // The audit log: a directory like the data directory, its files the owner's alone.
            let log = url.appendingPathComponent("audit")
            #expect(try permissions(log) == 0o700)
            let logFiles = try FileManager.default.contentsOfDirectory(atPath: log.path).sorted()
            for name in ["segment-00000000000000000001.log", "digests.log", "index.sqlite", "index.sqlite-wal"] {
                #expect(logFiles.contains(name), "missing \(name) in \(logFiles)")
            }
            for name in logFiles {
                #expect(try permissions(log.appendingPathComponent(name)) == 0o600, "audit/\(name)")
            }
        }
    }
}
