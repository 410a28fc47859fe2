import AuditTrail
import Foundation

/// A closed block of the audit index: consecutive records whose frames lie back to back in one segment, summarised
/// so a query can tell whether the block may hold a record it wants without reading it, and a usage report can take
/// the block's counts without decoding it when the whole block lies inside the report's period.
///
/// Built on the indexer from records already durable in the log (``AuditLogEntry``); stored as one row of
/// `index.sqlite` (``AuditLogIndex``) with a row per distinct term.
struct AuditLogBlock: Sendable, Equatable {
    /// The first and last record's sequence numbers (every number between is in the block).
    var first: Int64
    var last: Int64
    /// The earliest and latest `eventTime` in the block, in whole seconds (records have whole-second times; times
    /// need not grow with the sequence number).
    var minTime: Int64
    var maxTime: Int64
    /// Where the block's frames are: one byte range of one segment.
    var location: AuditFrameLocation
    /// The distinct terms the block's records name (see ``AuditLogTerm``).
    var terms: Set<UInt64>
    /// The block's usage counts (``UsageReport``'s rows over the whole block).
    var usage: [UsageReport.Row]

    /// The records in the block.
    var count: Int { Int(last - first + 1) }

    /// Summarises `entries`, which must be one block (see ``blockLength(_:maximum:)``).
    init(_ entries: ArraySlice<AuditLogEntry>) {
        let head = entries[entries.startIndex]
        let tail = entries[entries.endIndex - 1]
        first = head.sequence
        last = tail.sequence
        location = AuditFrameLocation(
            segment: head.location.segment,
            offset: head.location.offset,
            length: tail.location.offset + tail.location.length - head.location.offset
        )
        var terms = AuditLogTerms()
        var counts: [UsageKey: UsageCount] = [:]
        var minTime = Int64.max
        var maxTime = Int64.min
        for entry in entries {
            let columns = entry.columns
            minTime = min(minTime, columns.eventTime)
            maxTime = max(maxTime, columns.eventTime)
            terms.add(columns)
            let isDecrypt = columns.eventName == "Decrypt" && columns.errorCode == nil
            if isDecrypt || columns.isDenial {
                counts[terms.usageKey, default: UsageCount()].add(decrypt: isDecrypt, denial: columns.isDenial)
            }
        }
        (self.minTime, self.maxTime) = (minTime, maxTime)
        self.terms = terms.terms
        usage = counts.map {
            UsageReport.Row(
                eventType: $0.key.eventType,
                principalARN: $0.key.principalARN,
                successfulDecrypts: $0.value.decrypts,
                denials: $0.value.denials
            )
        }
    }

    init(
        first: Int64,
        last: Int64,
        minTime: Int64,
        maxTime: Int64,
        location: AuditFrameLocation,
        terms: Set<UInt64>,
        usage: [UsageReport.Row]
    ) {
        (self.first, self.last, self.minTime, self.maxTime) = (first, last, minTime, maxTime)
        (self.location, self.terms, self.usage) = (location, terms, usage)
    }

    /// How many of the leading `entries` form the first block: at most `maximum`, all in one segment, consecutive
    /// numbers, each frame right after the one before. Returns `nil` when the block may still grow (every entry fits
    /// and there are fewer than `maximum`), unless `closing`.
    static func blockLength(_ entries: ArraySlice<AuditLogEntry>, maximum: Int, closing: Bool) -> Int? {
        guard let head = entries.first else { return nil }
        var previous = head
        var length = 1
        for entry in entries.dropFirst() {
            guard length < maximum,
                entry.location.segment == head.location.segment,
                entry.sequence == previous.sequence + 1,
                entry.location.offset == previous.location.offset + previous.location.length
            else { return length }
            previous = entry
            length += 1
        }
        return length == maximum || closing ? length : nil
    }

    /// Whether `entries` (sequence order) may hold a closed block: cheap, for the writer after each batch.
    static func mayClose(_ entries: [AuditLogEntry], maximum: Int) -> Bool {
        guard let head = entries.first, let tail = entries.last else { return false }
        return entries.count >= maximum || head.location.segment != tail.location.segment
            || tail.sequence - head.sequence != Int64(entries.count - 1)
    }
}

/// The terms the index keeps per block: the kind and the value hashed to 64 bits (FNV-1a over a kind byte and the
/// value's UTF-8). A query on a key, principal, event type or name, or on errors, reads only the blocks that hold its
/// terms. Two values with the same hash only make a block a candidate for both: queries still match every record
/// they read, so a collision costs a read, never an answer.
enum AuditLogTerm {
    enum Kind: UInt8 {
        /// A key the record names, in ``AuditTrail/Record/keyIdentifier(_:)``'s normal form.
        case key = 1
        /// A principal ARN: `userIdentity.arn` or the session issuer's ARN (``AuditTrail/Record/principalARNs``).
        case principal
        case eventType
        case eventName
        /// Some record of the block has an `errorCode` (the value is empty).
        case error
    }

    static let error = hash(.error, "")

    static func hash(_ kind: Kind, _ value: String) -> UInt64 {
        var value = value
        return value.withUTF8 { fnv1a(kind.rawValue, $0) }
    }

    /// FNV-1a, 64 bits, of `kind` followed by `bytes`.
    private static func fnv1a(_ kind: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var hash = (0xCBF2_9CE4_8422_2325 ^ UInt64(kind)) &* prime
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
        return hash
    }

    /// The terms a block must hold to have a record matching `query` (none for its time, sequence and limit).
    static func required(by query: AuditQuery) -> [UInt64] {
        var terms: [UInt64] = []
        if let key = query.key { terms.append(hash(.key, Record.keyIdentifier(key))) }
        if let principal = query.principalARN { terms.append(hash(.principal, principal)) }
        if let eventType = query.eventType { terms.append(hash(.eventType, eventType)) }
        if let eventName = query.eventName { terms.append(hash(.eventName, eventName)) }
        if query.errorsOnly { terms.append(error) }
        return terms
    }
}

/// The terms of a block's records, and the hashes its usage counts are keyed by. A value equal to the previous
/// record's is not hashed again: consecutive records often share their values, and comparing is cheaper.
private struct AuditLogTerms {
    private(set) var terms: Set<UInt64> = []
    private var previous: AuditIndexColumns?
    private var principal: UInt64?
    private var eventType: UInt64?

    mutating func add(_ columns: AuditIndexColumns) {
        defer { previous = columns }
        if columns.errorCode != nil { terms.insert(AuditLogTerm.error) }
        if columns.keys != previous?.keys {
            for key in columns.keys { terms.insert(AuditLogTerm.hash(.key, key)) }
        }
        if columns.principalARN != previous?.principalARN {
            principal = columns.principalARN.map { AuditLogTerm.hash(.principal, $0) }
            if let principal { terms.insert(principal) }
        }
        if columns.issuerARN != previous?.issuerARN, let arn = columns.issuerARN {
            terms.insert(AuditLogTerm.hash(.principal, arn))
        }
        if columns.eventType != previous?.eventType {
            eventType = columns.eventType.map { AuditLogTerm.hash(.eventType, $0) }
            if let eventType { terms.insert(eventType) }
        }
        if columns.eventName != previous?.eventName { terms.insert(AuditLogTerm.hash(.eventName, columns.eventName)) }
    }

    /// The usage key of the record added last: its event type and principal, hashed once.
    var usageKey: UsageKey {
        UsageKey(
            eventType: previous?.eventType,
            principalARN: previous?.principalARN,
            digest: (eventType ?? 0) &* 0x9E37_79B9_7F4A_7C15 ^ (principal ?? 0)
        )
    }
}

/// A usage row's counts.
private struct UsageCount {
    var decrypts = 0
    var denials = 0

    mutating func add(decrypt: Bool, denial: Bool) {
        decrypts += decrypt ? 1 : 0
        denials += denial ? 1 : 0
    }
}

/// An event type and principal, hashed by the digest of their term hashes (equal keys have equal digests), compared
/// by their values.
private struct UsageKey: Hashable {
    var eventType: String?
    var principalARN: String?
    var digest: UInt64

    static func == (lhs: UsageKey, rhs: UsageKey) -> Bool {
        lhs.digest == rhs.digest && lhs.eventType == rhs.eventType && lhs.principalARN == rhs.principalARN
    }

    func hash(into hasher: inout Hasher) { hasher.combine(digest) }
}
