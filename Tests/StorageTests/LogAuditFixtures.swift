import AuditTrail
import Foundation
import Logging
import Testing

@testable import Storage

/// Fixtures of the audit log's tests: a populated log, and its frames as a forger (or a crash) sees them.
enum LogFixtures {
    /// `directory/audit`.
    static func log(_ directory: URL) -> URL { directory.appendingPathComponent("audit") }

    /// The first segment of the log in `directory`.
    static func firstSegment(_ directory: URL) -> URL {
        log(directory).appendingPathComponent("segment-00000000000000000001.log")
    }

    static func digestsFile(_ directory: URL) -> URL { log(directory).appendingPathComponent("digests.log") }

    /// A log in `directory/audit` with `count` records (every third a CreateKey) and a digest after every `digestEvery`
    /// records; closed on return so the test can tamper with its files.
    @discardableResult
    static func populate(
        _ directory: URL,
        count: Int = 30,
        digestEvery: Int = 10,
        key: AuditSigningKey,
        rollSize: Int = LogAuditStore.defaultRollSize,
        anchor: FileDigestAnchor? = nil
    ) async throws -> URL {
        let store = try LogAuditStore(directory: log(directory), rollSize: rollSize)
        let service = DigestService(store: store, signingKey: key, anchor: anchor, clock: ContinuousClock(),
                                    now: { AuditFixtures.baseTime }, logger: .init(label: "test"))
        for index in 1...count {
            try await store.record(index % 3 == 0 ? AuditFixtures.createKey(index) : AuditFixtures.decrypt(index))
            if index % digestEvery == 0 { try await service.signIfNeeded() }
        }
        try store.close()
        return log(directory)
    }

    /// Verifies the log with a freshly opened store, and checks the read-only verification agrees.
    static func verify(
        _ directory: URL,
        _ key: AuditSigningKey,
        anchor: SignedDigest? = nil
    ) async throws -> VerificationReport {
        let store = try LogAuditStore(directory: log(directory))
        defer { try? store.close() }
        let report = try await store.verify(publicKey: key.publicKey, anchor: anchor)
        let readOnly = try LogAuditStore.verify(directory: log(directory), publicKey: key.publicKey, anchor: anchor)
        #expect(readOnly == report)
        return report
    }

    /// A frame as it lies in a file.
    struct Frame {
        var offset: Int
        var sequence: Int64
        var bytes: [UInt8]
        var payload: [UInt8] { Array(bytes[AuditFrame.headerSize...]) }
    }

    /// The frames of `file`, in order (the file must hold whole valid frames).
    static func frames(_ file: URL) throws -> [Frame] {
        let bytes = try [UInt8](Data(contentsOf: file))
        var frames: [Frame] = []
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                guard case .frame(let header, valid: true) = AuditFrame.read(raw, at: offset) else {
                    throw AuditStoreError(.corrupt, "not a frame at \(offset)")
                }
                frames.append(
                    Frame(offset: offset, sequence: header.sequence, bytes: Array(bytes[offset..<(offset + header.frameLength)]))
                )
                offset += header.frameLength
            }
        }
        return frames
    }

    /// Replaces `file`'s frames by `frames` (written back to back).
    static func write(_ frames: [[UInt8]], to file: URL) throws {
        try Data(frames.flatMap { $0 }).write(to: file)
    }

    /// A frame with a correct checksum, as a forger who knows the format writes it.
    static func frame(_ payload: [UInt8], _ sequence: Int64) -> [UInt8] {
        AuditFrame.encode(payload: payload, sequence: sequence)
    }

    /// Replaces the first `old` by `new` (same length) in `payload`.
    static func edit(_ payload: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        let text = String(decoding: payload, as: UTF8.self)
        let edited = Array(text.replacingOccurrences(of: old, with: new, options: [], range: text.range(of: old)).utf8)
        #expect(edited.count == payload.count && edited != payload)
        return edited
    }

    /// The records' canonical bytes from the first segment.
    static func payloads(_ directory: URL) throws -> [[UInt8]] { try frames(firstSegment(directory)).map(\.payload) }
}
