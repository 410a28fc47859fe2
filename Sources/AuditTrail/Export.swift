public import Crypto
public import Foundation
import SealedSupport

/// The audit trail's export file: CloudTrail's `{"Records": [...]}` plus what verification needs.
///
/// ```
/// {"Format":"sealed-events-audit-export/1","PublicKeyFingerprint":"HEX","FirstSequence":N,
/// "Digests":[{…signed digest…},…],
/// "Records":[
/// {…canonical bytes of record N…},
/// {…canonical bytes of record N+1…}
/// ]}
/// ```
///
/// Each element of `Records` is a record's canonical bytes, byte for byte as the store holds them (see
/// ``ChainedRecordEncoder``): a CloudTrail record with two more members, `sequenceNumber` and `previousHash`. Its
/// hash is the SHA-256 of exactly those bytes, so an export must not be re-formatted (re-indenting the records breaks
/// verification). `Digests` holds every signed digest whose head is at or after the record before the first exported
/// one, in signing order (their JSON form is ``SignedDigest/jsonValue``).
///
/// An export of the whole chain starts at record 1 and verifies from the genesis hash. An export made with `--since`
/// starts right after the head of a digest (the newest one before the time asked for; record 1 when there is none)
/// and carries that digest, so its first record must follow a head signed by the audit key: cutting records off its
/// front is caught (``VerificationProblem/Kind/unanchoredStart``), and the report names where it starts.
public enum Export {
    /// The value of the `Format` member.
    public static let format = "sealed-events-audit-export/1"

    /// What an export wrote.
    public struct Summary: Sendable, Hashable {
        public var records: Int
        public var digests: Int
        public var firstSequence: Int64?
        public var lastSequence: Int64?

        public init(records: Int, digests: Int, firstSequence: Int64?, lastSequence: Int64?) {
            self.records = records
            self.digests = digests
            self.firstSequence = firstSequence
            self.lastSequence = lastSequence
        }
    }

    /// Writes an export file, streaming: records are appended one at a time and buffered.
    ///
    /// The file is written beside `url` under a temporary name, created new with mode 0600, and renamed over `url` by
    /// ``finish()``, so a failed export never leaves a partial file behind under the final name and no one but the
    /// owner can read it at any time.
    public struct Writer: ~Copyable {
        private let url: URL
        private let file: DurableFile
        private var buffer: [UInt8] = []
        private var records = 0
        private let digests: Int
        private var firstSequence: Int64?
        private var lastSequence: Int64?

        /// Starts an export.
        ///
        /// - Parameters:
        ///   - digests: the digests the export carries (see ``Export``), in signing order.
        ///   - firstSequence: the sequence number of the first record that will be appended.
        /// - Throws: ``AuditError`` `fileSystem`.
        public init(
            to url: URL,
            publicKey: P256.Signing.PublicKey?,
            digests: [SignedDigest],
            firstSequence: Int64
        ) throws {
            self.url = url
            // Staged privately: created new (`O_EXCL`) with mode 0600, so no one else can read a record while it is
            // written, and the final file keeps that mode.
            do {
                file = try DurableFile(for: url, mode: 0o600)
            } catch let error as FileSystemError {
                let what = error.action == "create" ? "create" : "set the mode of"
                throw AuditError(.fileSystem, "Could not \(what) the export file \(error.path).")
            }
            self.digests = digests.count
            buffer.reserveCapacity(1 << 20)
            buffer.append(contentsOf: Array("{\"Format\":".utf8))
            CanonicalJSON.writeString(Export.format, to: &buffer)
            if let publicKey {
                buffer.append(contentsOf: Array(",\"PublicKeyFingerprint\":".utf8))
                CanonicalJSON.writeString(AuditSigningKey.fingerprint(of: publicKey), to: &buffer)
            }
            buffer.append(contentsOf: Array(",\"FirstSequence\":\(firstSequence),\n\"Digests\":[".utf8))
            for (index, digest) in digests.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                buffer.append(UInt8(ascii: "\n"))
                CanonicalJSON.write(digest.jsonValue, to: &buffer)
            }
            buffer.append(contentsOf: Array("],\n\"Records\":[".utf8))
        }

        /// Appends a record's canonical bytes (exactly as stored).
        ///
        /// - Throws: ``AuditError`` `fileSystem`.
        public mutating func append(canonicalBytes bytes: some Collection<UInt8>, sequence: Int64) throws {
            if records > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(UInt8(ascii: "\n"))
            buffer.append(contentsOf: bytes)
            records += 1
            if firstSequence == nil { firstSequence = sequence }
            lastSequence = sequence
            if buffer.count >= 1 << 20 { try flush() }
        }

        private mutating func flush() throws {
            do {
                try file.write(buffer)
            } catch {
                throw AuditError(.fileSystem, "Could not write the export file \(file.temporaryURL.path).")
            }
            buffer.removeAll(keepingCapacity: true)
        }

        /// Completes the file, syncs it and renames it to its final name.
        ///
        /// - Throws: ``AuditError`` `fileSystem`; the temporary file is removed.
        public consuming func finish() throws -> Summary {
            buffer.append(contentsOf: Array("\n]}\n".utf8))
            do {
                try flush()
                try file.commit()
            } catch {
                file.discard()
                throw AuditError(.fileSystem, "Could not complete the export file \(url.path).")
            }
            return Summary(records: records, digests: digests, firstSequence: firstSequence, lastSequence: lastSequence)
        }

        /// Gives up: closes and removes the temporary file.
        public consuming func discard() {
            file.discard()
        }
    }

    /// Verifies an export file against the audit public key.
    ///
    /// The file is memory-mapped and scanned once; records are hashed in place, never decoded.
    /// - Throws: ``AuditError`` `malformedExport` when the file is not an export (not JSON, wrong `Format`, no
    ///   `Records`); `fileSystem` when it cannot be read. A well-formed export with bad records gives a report with
    ///   a ``VerificationReport/problem`` instead.
    ///
    /// - Parameter unsignedLimit: how much older than the export's newest record a record no digest covers may be
    ///   (see ``Verifier/UnsignedLimit``); `nil` does not check.
    public static func verify(
        fileAt url: URL,
        publicKey: P256.Signing.PublicKey,
        unsignedLimit: Verifier.UnsignedLimit? = Verifier.UnsignedLimit(reference: nil)
    ) throws -> VerificationReport {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw AuditError(.fileSystem, "Could not read the export file \(url.path).")
        }
        return try verify(data, publicKey: publicKey, unsignedLimit: unsignedLimit)
    }

    /// Verifies an export held in memory (see ``verify(fileAt:publicKey:unsignedLimit:)``).
    public static func verify(
        _ data: Data,
        publicKey: P256.Signing.PublicKey,
        unsignedLimit: Verifier.UnsignedLimit? = Verifier.UnsignedLimit(reference: nil)
    ) throws -> VerificationReport {
        try data.withUnsafeBytes { bytes in try verify(bytes, publicKey: publicKey, unsignedLimit: unsignedLimit) }
    }

    private static func verify(
        _ bytes: UnsafeRawBufferPointer,
        publicKey: P256.Signing.PublicKey,
        unsignedLimit: Verifier.UnsignedLimit?
    ) throws
        -> VerificationReport
    {
        func malformed(_ reason: String) -> AuditError {
            AuditError(.malformedExport, "Not an audit export: \(reason).")
        }
        var parser = RecordReader(bytes)
        var format: String?
        var firstSequence: Int64?
        var digests: [SignedDigest]?
        var recordsAt: Int?
        var report: VerificationReport?
        do {
            parser.skipWhitespace()
            try parser.expect(UInt8(ascii: "{"))
            parser.skipWhitespace()
            if parser.peek() != UInt8(ascii: "}") {
                while true {
                    parser.skipWhitespace()
                    let key = try parser.parseString()
                    parser.skipWhitespace()
                    try parser.expect(UInt8(ascii: ":"))
                    parser.skipWhitespace()
                    switch key {
                    case "Format":
                        format = try parser.parseString()
                    case "FirstSequence":
                        firstSequence = try parser.parseInteger()
                    case "Digests":
                        guard case .array(let elements) = try parser.parseValue(depth: 1) else {
                            throw malformed("Digests is not an array")
                        }
                        digests = try elements.map(SignedDigest.init(jsonValue:))
                    case "Records":
                        if let digests {
                            report = try verifyRecords(
                                &parser,
                                digests: digests,
                                publicKey: publicKey,
                                unsignedLimit: unsignedLimit
                            )
                        } else {
                            recordsAt = parser.position
                            try parser.skipValue(depth: 1)
                        }
                    default:
                        try parser.skipValue(depth: 1)
                    }
                    parser.skipWhitespace()
                    if parser.peek() == UInt8(ascii: ",") {
                        parser.position += 1
                        continue
                    }
                    break
                }
            }
            try parser.expect(UInt8(ascii: "}"))
            parser.skipWhitespace()
            guard parser.isAtEnd else { throw malformed("bytes after the export object") }
            guard format == Export.format else { throw malformed("Format is not \(Export.format)") }
            if report == nil, let recordsAt {
                var again = RecordReader(bytes, position: recordsAt)
                report = try verifyRecords(
                    &again,
                    digests: digests ?? [],
                    publicKey: publicKey,
                    unsignedLimit: unsignedLimit
                )
            }
        } catch let error as AuditError where error.code == .malformedExport {
            throw error
        } catch {
            throw malformed("\(error)")
        }
        guard var report else { throw malformed("no Records") }
        if report.problem == nil, let first = report.firstSequence, let firstSequence, first != firstSequence {
            report.problem = VerificationProblem(
                .unanchoredStart,
                sequence: first,
                "The export says it starts at record \(firstSequence), but its first record is \(first)."
            )
        }
        return report
    }

    /// Streams the `Records` array under `parser` through a verifier.
    private static func verifyRecords(
        _ parser: inout RecordReader,
        digests: [SignedDigest],
        publicKey: P256.Signing.PublicKey,
        unsignedLimit: Verifier.UnsignedLimit?
    ) throws -> VerificationReport {
        var verifier = Verifier(
            publicKey: publicKey,
            digests: digests,
            start: .firstRecord,
            unsignedLimit: unsignedLimit
        )
        try parser.expect(UInt8(ascii: "["))
        parser.skipWhitespace()
        if parser.peek() == UInt8(ascii: "]") {
            parser.position += 1
            return verifier.finish()
        }
        while true {
            parser.skipWhitespace()
            // The verifier reads each record once, finding its end; after the first problem the rest is only
            // skipped (a malformed record is a problem at its place, not an error).
            if verifier.wantsMoreRecords, let end = verifier.checkElement(of: parser.bytes, at: parser.position) {
                parser.position = end
            } else {
                try parser.skipValue(depth: 1)
            }
            parser.skipWhitespace()
            if parser.peek() == UInt8(ascii: ",") {
                parser.position += 1
                continue
            }
            try parser.expect(UInt8(ascii: "]"))
            return verifier.finish()
        }
    }
}
