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
    var terms: Set<String>
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
        var counts: [UsageKey: (decrypts: Int, denials: Int)] = [:]
        var minTime = Int64.max
        var maxTime = Int64.min
        for entry in entries {
            let columns = entry.columns
            minTime = min(minTime, columns.eventTime)
            maxTime = max(maxTime, columns.eventTime)
            terms.add(columns)
            let isDecrypt = columns.eventName == "Decrypt" && columns.errorCode == nil
            if isDecrypt || columns.isDenial {
                let key = UsageKey(eventType: columns.eventType, principalARN: columns.principalARN)
                counts[key, default: (0, 0)].decrypts += isDecrypt ? 1 : 0
                counts[key, default: (0, 0)].denials += columns.isDenial ? 1 : 0
            }
        }
        (self.minTime, self.maxTime) = (minTime, maxTime)
        self.terms = terms.all
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
        terms: Set<String>,
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

/// The terms the index keeps per block, as text: the kind, a colon, the value. A query on a key, principal, event
/// type or name, or on errors, reads only the blocks that hold its terms.
enum AuditLogTerm {
    /// A key the record names, in ``AuditTrail/Record/keyIdentifier(_:)``'s normal form.
    static func key(_ identifier: String) -> String { "key:" + identifier }
    /// A principal ARN: `userIdentity.arn` or the session issuer's ARN (``AuditTrail/Record/principalARNs``).
    static func principal(_ arn: String) -> String { "principal:" + arn }
    static func eventType(_ type: String) -> String { "type:" + type }
    static func eventName(_ name: String) -> String { "name:" + name }
    /// Some record of the block has an `errorCode`.
    static let error = "error"

    /// The terms a block must hold to have a record matching `query` (none for its time, sequence and limit).
    static func required(by query: AuditQuery) -> [String] {
        var terms: [String] = []
        if let key = query.key { terms.append(Self.key(Record.keyIdentifier(key))) }
        if let principal = query.principalARN { terms.append(Self.principal(principal)) }
        if let eventType = query.eventType { terms.append(Self.eventType(eventType)) }
        if let eventName = query.eventName { terms.append(Self.eventName(eventName)) }
        if query.errorsOnly { terms.append(Self.error) }
        return terms
    }
}

/// The distinct values a block's records name, collected per kind (no string is built per record) and turned into
/// terms once per block.
private struct AuditLogTerms {
    var keys: Set<String> = []
    var principals: Set<String> = []
    var eventTypes: Set<String> = []
    var eventNames: Set<String> = []
    var hasErrors = false
    /// The previous record's columns: consecutive records often share their values, and comparing is cheaper than
    /// hashing.
    private var previous: AuditIndexColumns?

    mutating func add(_ columns: AuditIndexColumns) {
        defer { previous = columns }
        if columns.errorCode != nil { hasErrors = true }
        if columns.keys != previous?.keys { keys.formUnion(columns.keys) }
        if let arn = columns.principalARN, arn != previous?.principalARN { principals.insert(arn) }
        if let arn = columns.issuerARN, arn != previous?.issuerARN { principals.insert(arn) }
        if let type = columns.eventType, type != previous?.eventType { eventTypes.insert(type) }
        if columns.eventName != previous?.eventName { eventNames.insert(columns.eventName) }
    }

    var all: Set<String> {
        var terms = Set(keys.map(AuditLogTerm.key))
        terms.formUnion(principals.map(AuditLogTerm.principal))
        terms.formUnion(eventTypes.map(AuditLogTerm.eventType))
        terms.formUnion(eventNames.map(AuditLogTerm.eventName))
        if hasErrors { terms.insert(AuditLogTerm.error) }
        return terms
    }
}

private struct UsageKey: Hashable {
    var eventType: String?
    var principalARN: String?
}
