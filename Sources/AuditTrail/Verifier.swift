public import Crypto
public import Foundation

/// Checks a chain of stored records and its signed digests, streaming: one record at a time, in sequence order,
/// holding nothing but a few hashes.
///
/// The same checks serve the live store (rows read from SQLite) and an export file
/// (``Export/verify(fileAt:publicKey:)``); they need nothing but the records' canonical bytes, the digests and the
/// audit public key (see ``ChainedRecordEncoder`` for the chain's definition and ``Digest`` for the signed bytes).
///
/// What is caught, and how it is named (``VerificationProblem/Kind``):
///
/// - a record whose bytes changed: its hash no longer matches what its successor names as previous, or (live
///   store) the hash stored beside it → ``VerificationProblem/Kind/changedRecord``;
/// - a record removed: a gap in the sequence numbers → ``VerificationProblem/Kind/removedRecord``;
/// - a record inserted that links to its predecessor, while the next record still links to that predecessor →
///   ``VerificationProblem/Kind/insertedRecord``;
/// - records out of order (swapped, moved) → ``VerificationProblem/Kind/reorderedRecords``;
/// - a chain rewritten consistently (records changed, inserted or removed and every later hash recomputed): it no
///   longer ends in the head a signed digest names → ``VerificationProblem/Kind/forgedChain``;
/// - a digest whose signature does not verify → ``VerificationProblem/Kind/badDigestSignature``; digests missing,
///   reordered or not chained by their previous signatures → ``VerificationProblem/Kind/brokenDigestChain``;
/// - records cut from the end after a signed digest (a digest names a head beyond the last record) →
///   ``VerificationProblem/Kind/truncatedTail``.
///
/// - records that no digest covers although they are older than an ``UnsignedLimit`` allows (digests removed, or the
///   server stopped signing) → ``VerificationProblem/Kind/unsignedRecords``; a store with records but no digest at
///   all fails this way once its records are old enough;
/// - a chain that does not start at record 1 without a valid digest naming the record before its first one (an
///   export cut at the front) → ``VerificationProblem/Kind/unanchoredStart``;
/// - digests removed from the end of a store while the newest one is kept elsewhere (``DigestAnchor``): see
///   ``requireDigest(_:)`` → ``VerificationProblem/Kind/brokenDigestChain``.
///
/// What cannot be caught without an outside anchor: changes to, or removal of, records after the newest digest
/// together with the digests after them, within the ``UnsignedLimit``, since nothing signed vouches for them yet. The
/// report says how many records no digest covers (``VerificationReport/unsignedRecords``), and keeping a copy of the
/// newest digest (or just its head hash) elsewhere closes the gap.
public struct Verifier: Sendable {
    /// Where the chain must start.
    public enum Start: Sendable, Hashable {
        /// At record 1, whose previous hash is ``ChainHash/genesis`` (the live store; a full export).
        case genesis
        /// At whichever record comes first (an export made with `--since`): a first record numbered 1 must follow the
        /// genesis hash, and a later one must follow the head of a valid digest naming the record before it (the
        /// export starts right after a digest and carries it), so the start is vouched for by a signature. Digests
        /// whose head lies before that cannot be checked against records and are only checked for their signatures.
        case firstRecord
    }

    /// How old a record may be and still not be covered by a digest.
    ///
    /// The server signs a digest every interval (one minute) while records are written, and at shutdown; a record
    /// older than the interval plus a grace period that no digest covers means digests were removed, or the server
    /// stopped without signing (a crash: the next start signs them within an interval).
    public struct UnsignedLimit: Sendable, Hashable {
        /// The most seconds a record may wait for a digest.
        public var maximumAge: TimeInterval
        /// The time ages are measured at: now for a live store; `nil` for the newest record's time (an export,
        /// which holds the digests signed by the time it was made).
        public var reference: Date?

        public init(maximumAge: TimeInterval = UnsignedLimit.defaultMaximumAge, reference: Date?) {
            self.maximumAge = maximumAge
            self.reference = reference
        }

        /// The digest interval (60 s) plus ten minutes of grace.
        public static let defaultMaximumAge: TimeInterval = 60 + 600
    }

    private let start: Start
    private let digests: [SignedDigest]
    private var digestProblem: VerificationProblem?
    private var digestCursor = 0

    private var expected: Int64?
    private var lastHash: ChainHash
    private var beforeLastHash: ChainHash?
    private var lastSequence: Int64?
    private var firstSequence: Int64?
    private var recordsChecked = 0
    private var digestsMatched = 0
    private var lastSignedSequence: Int64 = 0
    private var pendingLink: (earlier: Int64, later: Int64)?
    private var missingSequence: Int64?
    private var problem: VerificationProblem?

    private let unsignedLimit: UnsignedLimit?
    /// The newest head a valid digest names (0 when none).
    private let newestDigestHead: Int64
    /// The `eventTime` of the first record no digest covers, and of the last record checked (its characters).
    private var firstUnsigned: (sequence: Int64, time: [UInt8])?
    private var lastTime: [UInt8] = []

    /// A verifier for records that follow, checked against `digests` (in the order they were signed).
    ///
    /// The digests' signatures and their chain are checked here; their heads as the records stream by.
    ///
    /// - Parameter unsignedLimit: how old a record no digest covers may be; `nil` does not check.
    public init(
        publicKey: P256.Signing.PublicKey,
        digests: [SignedDigest],
        start: Start = .genesis,
        unsignedLimit: UnsignedLimit? = nil
    ) {
        self.start = start
        self.unsignedLimit = unsignedLimit
        self.lastHash = .genesis
        if start == .genesis { expected = 1 }
        let fingerprint = AuditSigningKey.fingerprint(of: publicKey)
        var valid: [SignedDigest] = []
        var earlier: SignedDigest?
        for signed in digests {
            let digest = signed.digest
            let found: VerificationProblem?
            if !signed.isValid(for: publicKey) {
                let reason =
                    digest.keyFingerprint == fingerprint
                    ? "its signature does not verify"
                    : "it names signing key \(digest.keyFingerprint), not \(fingerprint), and its signature does not "
                        + "verify"
                found = VerificationProblem(
                    .badDigestSignature,
                    sequence: digest.headSequence,
                    "Digest \(digest.digestSequence) (head \(digest.headSequence)): \(reason)."
                )
            } else if digest.recordCount != digest.headSequence || digest.headSequence < 0 {
                found = VerificationProblem(
                    .brokenDigestChain,
                    sequence: digest.headSequence,
                    "Digest \(digest.digestSequence) counts \(digest.recordCount) records at head "
                        + "\(digest.headSequence)."
                )
            } else if let earlier {
                if digest.digestSequence != earlier.digest.digestSequence + 1
                    || digest.previousSignature != earlier.signature
                {
                    found = VerificationProblem(
                        .brokenDigestChain,
                        sequence: digest.headSequence,
                        "Digest \(digest.digestSequence) does not follow digest \(earlier.digest.digestSequence): a "
                            + "digest was removed, inserted or reordered."
                    )
                } else if digest.headSequence < earlier.digest.headSequence {
                    found = VerificationProblem(
                        .brokenDigestChain,
                        sequence: digest.headSequence,
                        "Digest \(digest.digestSequence) names head \(digest.headSequence), before the head of the "
                            + "digest before it (\(earlier.digest.headSequence))."
                    )
                } else {
                    found = nil
                }
            } else if start == .genesis && (digest.digestSequence != 1 || !digest.previousSignature.isEmpty) {
                found = VerificationProblem(
                    .brokenDigestChain,
                    sequence: digest.headSequence,
                    "The first digest is number \(digest.digestSequence), not 1: earlier digests were removed."
                )
            } else {
                found = nil
            }
            if let found {
                digestProblem = found
                break
            }
            valid.append(signed)
            earlier = signed
        }
        self.digests = valid
        newestDigestHead = valid.last?.digest.headSequence ?? 0
        if start == .genesis { checkDigests(atHead: 0, hash: .genesis) }
    }

    /// Requires `digest` — the newest digest as kept outside the store (``DigestAnchor``) — to be among the digests:
    /// when it is valid but the store's digests end before it or hold another in its place, digests were removed or
    /// replaced (``VerificationProblem/Kind/brokenDigestChain``). A kept digest that is not validly signed is
    /// ``VerificationProblem/Kind/badDigestSignature``.
    public mutating func requireDigest(_ digest: SignedDigest, publicKey: P256.Signing.PublicKey) {
        let sequence = digest.digest.digestSequence
        guard digest.isValid(for: publicKey) else {
            fail(
                .badDigestSignature,
                digest.digest.headSequence,
                "The newest digest kept outside the store (\(sequence)) is not signed by this key."
            )
            return
        }
        if !digests.contains(digest) {
            fail(
                .brokenDigestChain,
                digest.digest.headSequence,
                "Digest \(sequence), kept outside the store as the newest signed, is not in the store: digests were "
                    + "removed or replaced."
            )
        }
    }

    /// Whether the verifier still wants records: `false` once the first problem is known for certain.
    public var wantsMoreRecords: Bool { problem == nil }

    /// Checks the next record, given as its canonical bytes.
    ///
    /// - Parameters:
    ///   - bytes: the record's canonical bytes, exactly as stored or exported.
    ///   - storedSequence: the sequence number the store files the record under (the live store's row), if any.
    ///   - storedHash: the hash the store keeps beside the record, if any.
    /// - Returns: ``wantsMoreRecords``.
    @discardableResult
    public mutating func check(
        _ bytes: UnsafeRawBufferPointer,
        storedSequence: Int64? = nil,
        storedHash: ChainHash? = nil
    ) -> Bool {
        guard problem == nil else { return false }
        let fields: ChainFields
        do {
            fields = try ChainFields.read(bytes)
        } catch {
            malformed(storedSequence: storedSequence, error)
            return false
        }
        return check(fields: fields, bytes: bytes, storedSequence: storedSequence, storedHash: storedHash)
    }

    /// Checks the record that starts at `start` in `buffer` (an export's `Records` array), reading it only once.
    ///
    /// - Returns: where the record ends, or `nil` when it is not a well-formed record (then a problem is recorded).
    mutating func checkElement(of buffer: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard problem == nil else { return nil }
        let fields: ChainFields
        let end: Int
        do {
            (fields, end) = try ChainFields.read(buffer, from: start)
        } catch {
            malformed(storedSequence: nil, error)
            return nil
        }
        check(
            fields: fields,
            bytes: UnsafeRawBufferPointer(rebasing: buffer[start..<end]),
            storedSequence: nil,
            storedHash: nil
        )
        return end
    }

    private mutating func malformed(storedSequence: Int64?, _ error: any Error) {
        let at = storedSequence ?? expected ?? (lastSequence.map { $0 + 1 } ?? 0)
        fail(.malformedRecord, at, "Record \(at) is not a well-formed chained record: \(error).")
    }

    @discardableResult
    private mutating func check(
        fields: ChainFields,
        bytes: UnsafeRawBufferPointer,
        storedSequence: Int64?,
        storedHash: ChainHash?
    ) -> Bool {
        let sequence = fields.sequence
        if unsignedLimit != nil, let range = fields.eventTime, range.upperBound <= bytes.count {
            lastTime.removeAll(keepingCapacity: true)
            lastTime.append(contentsOf: bytes[range])
            if firstUnsigned == nil, sequence > newestDigestHead { firstUnsigned = (sequence, lastTime) }
        }
        if let missing = missingSequence {
            // A gap was seen; all that is left to learn is whether the missing record turns up later (reordered).
            if sequence == missing {
                fail(
                    .reorderedRecords,
                    missing,
                    "Record \(missing) appears out of order, after record \(sequence - 1)'s place."
                )
                return false
            }
            return true
        }
        let hash = ChainHash.of(bytes)
        if fields.previousHash != lastHash, let beforeLastHash, fields.previousHash == beforeLastHash,
            let lastSequence
        {
            // Checked first: an inserted record shifts the rows after it, so their stored places disagree too.
            fail(
                .insertedRecord,
                lastSequence,
                "Record \(lastSequence) was inserted: the record after it links to the record before it."
            )
            return false
        }
        if let storedSequence, storedSequence != sequence {
            fail(
                .reorderedRecords,
                storedSequence,
                "The record stored as \(storedSequence) is record \(sequence): records were moved or swapped."
            )
            return false
        }
        if let storedHash, storedHash != hash {
            fail(.changedRecord, sequence, "Record \(sequence) does not match the hash stored with it: it was changed.")
            return false
        }
        if let pending = pendingLink {
            if fields.previousHash == lastHash {
                fail(
                    .changedRecord,
                    pending.earlier,
                    "Record \(pending.earlier) does not hash to the value record \(pending.later) names: it was "
                        + "changed."
                )
            } else {
                fail(
                    .changedRecord,
                    pending.later,
                    "Record \(pending.later) names a wrong previous hash and is not named by its successor: it "
                        + "was changed."
                )
            }
            return false
        }
        if expected == nil {
            // `.firstRecord`: the chain starts wherever the export starts, right after a digest's head.
            expected = sequence
            firstSequence = sequence
            if sequence == 1 {
                guard fields.previousHash == .genesis else {
                    fail(.changedRecord, 1, "Record 1 does not follow the genesis hash.")
                    return false
                }
            } else if !digests.contains(where: { $0.digest.headSequence == sequence - 1 }) {
                fail(
                    .unanchoredStart,
                    sequence,
                    "The records start at \(sequence), but no valid digest names record \(sequence - 1): records before "
                        + "it may have been cut off, and nothing vouches for where the chain starts."
                )
                return false
            }
            lastHash = fields.previousHash
            checkDigests(atHead: sequence - 1, hash: fields.previousHash)
            guard problem == nil else { return false }
        } else if firstSequence == nil {
            firstSequence = sequence
        }
        if let expected, sequence != expected {
            if sequence > expected {
                missingSequence = expected
                return true
            }
            fail(.reorderedRecords, sequence, "Record \(sequence) appears out of order, after record \(expected - 1).")
            return false
        }
        if fields.previousHash != lastHash {
            if let lastSequence {
                pendingLink = (lastSequence, sequence)
            } else {
                fail(.changedRecord, sequence, "Record \(sequence) does not follow the genesis hash.")
                return false
            }
        } else {
            checkDigests(atHead: sequence, hash: hash)
            guard problem == nil else { return false }
        }
        beforeLastHash = lastHash
        lastHash = hash
        lastSequence = sequence
        expected = sequence + 1
        recordsChecked += 1
        return problem == nil
    }

    /// Checks the next record, given as its canonical bytes.
    @discardableResult
    public mutating func check(
        _ bytes: some ContiguousBytes,
        storedSequence: Int64? = nil,
        storedHash: ChainHash? = nil
    ) -> Bool {
        bytes.withUnsafeBytes { check($0, storedSequence: storedSequence, storedHash: storedHash) }
    }

    /// Compares the digests naming `head` with the hash found there.
    private mutating func checkDigests(atHead head: Int64, hash: ChainHash) {
        while digestCursor < digests.count, digests[digestCursor].digest.headSequence <= head {
            let digest = digests[digestCursor].digest
            digestCursor += 1
            guard digest.headSequence == head else { continue }  // before the first record of a suffix
            if digest.headHash != hash {
                let from = lastSignedSequence + 1
                fail(
                    .forgedChain,
                    max(from, firstSequence ?? from),
                    "The chain does not end in the head signed by digest \(digest.digestSequence) at record "
                        + "\(head): records from \(max(from, firstSequence ?? from)) through \(head) were changed, "
                        + "inserted or removed and the chain recomputed."
                )
                return
            }
            digestsMatched += 1
            lastSignedSequence = head
        }
    }

    private mutating func fail(_ kind: VerificationProblem.Kind, _ sequence: Int64, _ detail: String) {
        if problem == nil { problem = VerificationProblem(kind, sequence: sequence, detail) }
    }

    /// The outcome, once every record was given.
    public func finish() -> VerificationReport {
        var copy = self
        return copy.conclude()
    }

    private mutating func conclude() -> VerificationReport {
        if problem == nil, let missing = missingSequence {
            fail(.removedRecord, missing, "Record \(missing) is missing: it was removed.")
        }
        if problem == nil, let pending = pendingLink {
            fail(
                .changedRecord,
                pending.earlier,
                "Record \(pending.earlier) does not hash to the value record \(pending.later) names: it was changed."
            )
        }
        if problem == nil, let newest = digests.last, newest.digest.headSequence > (lastSequence ?? 0),
            !(start == .firstRecord && lastSequence == nil)
        {
            let from = (lastSequence ?? 0) + 1
            fail(
                .truncatedTail,
                from,
                "Digest \(newest.digest.digestSequence) names record \(newest.digest.headSequence) as the head, but "
                    + "the chain ends at \(lastSequence ?? 0): records from \(from) were cut off."
            )
        } else if problem == nil, digestCursor < digests.count, !(start == .firstRecord && lastSequence == nil) {
            // Digests beyond the records' heads were not reached (only possible with a gap already reported).
            let digest = digests[digestCursor].digest
            fail(.truncatedTail, (lastSequence ?? 0) + 1, "Digest \(digest.digestSequence) names an unknown head.")
        }
        if problem == nil, let limit = unsignedLimit, let firstUnsigned,
            let firstTime = Record.parse(String(decoding: firstUnsigned.time, as: UTF8.self)),
            let reference = limit.reference ?? Record.parse(String(decoding: lastTime, as: UTF8.self)),
            reference.timeIntervalSince(firstTime) > limit.maximumAge
        {
            fail(
                .unsignedRecords,
                firstUnsigned.sequence,
                "Record \(firstUnsigned.sequence) (\(String(decoding: firstUnsigned.time, as: UTF8.self))) and the "
                    + "records after it are older than \(Int(limit.maximumAge)) seconds and no digest covers them: "
                    + "digests were removed, or the server stopped without signing (a running server signs them "
                    + "within a minute)."
            )
        }
        var found = problem
        if let digestProblem, found == nil || digestProblem.sequence <= found!.sequence { found = digestProblem }
        return VerificationReport(
            recordsChecked: recordsChecked,
            digestsChecked: digestsMatched,
            firstSequence: firstSequence,
            lastSequence: lastSequence,
            lastSignedSequence: lastSignedSequence,
            problem: found
        )
    }

    /// Verifies a whole chain given as canonical record bytes, in order.
    public static func verify(
        records: some Sequence<[UInt8]>,
        digests: [SignedDigest],
        publicKey: P256.Signing.PublicKey,
        start: Start = .genesis,
        unsignedLimit: UnsignedLimit? = nil
    ) -> VerificationReport {
        var verifier = Verifier(publicKey: publicKey, digests: digests, start: start, unsignedLimit: unsignedLimit)
        for record in records {
            guard verifier.check(record) else { break }
        }
        return verifier.finish()
    }
}

/// The outcome of a verification.
public struct VerificationReport: Sendable, Hashable, CustomStringConvertible {
    /// Records checked (up to the first problem).
    public var recordsChecked: Int
    /// Digests whose head was found in the records with the hash they name.
    public var digestsChecked: Int
    /// The first record's sequence number (1 unless an export made with `--since`), `nil` without records.
    public var firstSequence: Int64?
    /// The last record checked, `nil` without records.
    public var lastSequence: Int64?
    /// The newest head vouched for by a valid digest (0 when none).
    public var lastSignedSequence: Int64
    /// The first problem, or `nil` when the chain verifies.
    public var problem: VerificationProblem?

    public init(
        recordsChecked: Int,
        digestsChecked: Int,
        firstSequence: Int64?,
        lastSequence: Int64?,
        lastSignedSequence: Int64,
        problem: VerificationProblem?
    ) {
        self.recordsChecked = recordsChecked
        self.digestsChecked = digestsChecked
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.lastSignedSequence = lastSignedSequence
        self.problem = problem
    }

    /// Whether the chain verifies.
    public var isValid: Bool { problem == nil }

    /// Records after the newest valid digest: intact as a chain, but not yet vouched for by a signature.
    public var unsignedRecords: Int64 { max(0, (lastSequence ?? 0) - lastSignedSequence) }

    public var description: String {
        if let problem { return "FAILED at record \(problem.sequence): \(problem)" }
        var text = "OK: \(recordsChecked) records"
        if let firstSequence, let lastSequence { text += " (\(firstSequence)…\(lastSequence))" }
        text += ", \(digestsChecked) digests"
        if unsignedRecords > 0 { text += "; \(unsignedRecords) records after the newest digest are not yet signed" }
        return text
    }
}

/// The first thing wrong with a chain.
public struct VerificationProblem: Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let changedRecord = Kind(rawValue: "ChangedRecord")
        public static let removedRecord = Kind(rawValue: "RemovedRecord")
        public static let insertedRecord = Kind(rawValue: "InsertedRecord")
        public static let reorderedRecords = Kind(rawValue: "ReorderedRecords")
        /// The records up to a digest's head do not end in the hash it signed.
        public static let forgedChain = Kind(rawValue: "ForgedChain")
        public static let badDigestSignature = Kind(rawValue: "BadDigestSignature")
        public static let brokenDigestChain = Kind(rawValue: "BrokenDigestChain")
        /// Records were cut from the end after a signed digest.
        public static let truncatedTail = Kind(rawValue: "TruncatedTail")
        /// A record is not a well-formed chained record.
        public static let malformedRecord = Kind(rawValue: "MalformedRecord")
        /// Records older than the ``Verifier/UnsignedLimit`` that no digest covers.
        public static let unsignedRecords = Kind(rawValue: "UnsignedRecords")
        /// A chain (an export) that starts after record 1 without a digest vouching for its start.
        public static let unanchoredStart = Kind(rawValue: "UnanchoredStart")
    }

    public var kind: Kind
    /// The first bad record (or, for digest problems, the digest's head).
    public var sequence: Int64
    /// A sentence for people.
    public var detail: String

    public init(_ kind: Kind, sequence: Int64, _ detail: String) {
        self.kind = kind
        self.sequence = sequence
        self.detail = detail
    }

    public var description: String { "\(kind) at record \(sequence): \(detail)" }
}
