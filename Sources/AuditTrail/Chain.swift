import Crypto
public import Foundation
import SealedSupport

/// A SHA-256 value of the audit chain: the hash of a record's canonical bytes.
///
/// Written as 64 lower-case hex digits in records, digests and exports.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes, in memory order, as four words. Not a `SIMD32<UInt8>`: a 32-byte vector kept across `await` in
    /// async functions corrupted the heap with Swift 6.3.1 on x86-64 (its LLVM alignment is 32, the async frame's 16).
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The previous hash of the first record: 32 zero bytes.
    public static let genesis = ChainHash(words: (0, 0, 0, 0))

    /// The SHA-256 of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return ChainHash(digest: hasher.finalize())
    }

    /// The SHA-256 of `bytes`.
    public static func of(_ bytes: some ContiguousBytes) -> ChainHash {
        bytes.withUnsafeBytes { of($0) }
    }

    init(digest: SHA256.Digest) {
        words = digest.withUnsafeBytes { raw in
            (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }

    /// A hash from its 32 bytes, or `nil` for another length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: bytes) }
        self.words = words
    }

    /// A hash from 64 hex digits (either case), or `nil`.
    public init?(hex: String) {
        var hex = hex
        guard let value = hex.withUTF8({ Self.parseHex(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    static func parseHex(_ bytes: UnsafeRawBufferPointer) -> ChainHash? {
        guard bytes.count == 64 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &words) { output -> Bool in
            for index in 0..<32 {
                guard let high = Hex.value(of: bytes[2 * index]), let low = Hex.value(of: bytes[2 * index + 1]) else {
                    return false
                }
                output[index] = high << 4 | low
            }
            return true
        }
        return valid ? ChainHash(words: words) : nil
    }

    public static func == (lhs: ChainHash, rhs: ChainHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] { Swift.withUnsafeBytes(of: words) { Array($0) } }

    /// Calls `body` with the 32 bytes in place.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    /// The 32 bytes.
    public var data: Data { Data(bytes) }

    /// 64 lower-case hex digits.
    public var hex: String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        appendHex(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the 64 lower-case hex digits to `output`.
    func appendHex(to output: inout [UInt8]) {
        Swift.withUnsafeBytes(of: words) { Hex.append($0, to: &output) }
    }

    public var description: String { hex }
}

/// The newest record of the chain: its sequence number (which is also the number of records) and its hash.
public struct ChainHead: Sendable, Hashable {
    /// The head's sequence number; 0 for an empty chain.
    public var sequence: Int64
    /// The head's hash; ``ChainHash/genesis`` for an empty chain.
    public var hash: ChainHash

    public init(sequence: Int64, hash: ChainHash) {
        self.sequence = sequence
        self.hash = hash
    }

    /// The head of an empty chain.
    public static let empty = ChainHead(sequence: 0, hash: .genesis)

    /// Links `prepared` after this head: its canonical bytes (the sequence number one higher, this head's hash as its
    /// `previousHash`) and the head it makes. Every store's writer chains its records with this.
    public func linking(_ prepared: ChainedRecordEncoder.Prepared) -> (bytes: [UInt8], head: ChainHead) {
        let next = sequence + 1
        let bytes = ChainedRecordEncoder.canonicalBytes(of: prepared, sequence: next, previousHash: hash)
        return (bytes, ChainHead(sequence: next, hash: ChainHash.of(bytes)))
    }
}

/// A record as the store holds it: its place in the chain and its content.
public struct StoredRecord: Sendable, Hashable {
    /// 1 for the first record, then consecutive.
    public var sequence: Int64
    /// The hash of the record before (``ChainHash/genesis`` for the first).
    public var previousHash: ChainHash
    /// The SHA-256 of this record's canonical bytes.
    public var hash: ChainHash
    public var record: Record

    public init(sequence: Int64, previousHash: ChainHash, hash: ChainHash, record: Record) {
        self.sequence = sequence
        self.previousHash = previousHash
        self.hash = hash
        self.record = record
    }

    /// Reads a stored record from its canonical bytes (as ``ChainedRecordEncoder`` wrote them).
    ///
    /// The hash is computed from `bytes`; the sequence number and previous hash are read from them.
    /// - Throws: ``AuditError`` `malformedRecord`.
    public init(canonicalBytes bytes: some ContiguousBytes) throws {
        let value = try CanonicalJSON.parse(bytes)
        guard let sequence = value[ChainedRecordEncoder.sequenceKey]?.numberValue?.int64Value else {
            throw Record.malformed("sequenceNumber is missing")
        }
        guard let text = value[ChainedRecordEncoder.previousHashKey]?.stringValue, let previous = ChainHash(hex: text)
        else { throw Record.malformed("previousHash is missing") }
        self.init(
            sequence: sequence,
            previousHash: previous,
            hash: ChainHash.of(bytes),
            record: try Record(jsonValue: value)
        )
    }
}

/// Writes records into the chain's canonical form.
///
/// **The chain.** Each stored record has a sequence number (1, 2, 3, …) and carries the hash of the record before it
/// (for record 1, ``ChainHash/genesis``: 32 zero bytes). The *canonical bytes* of a stored record are
/// ``CanonicalJSON`` of the record's CloudTrail JSON object (``Record/jsonValue``) with two members added:
///
/// - `"sequenceNumber"`: the sequence number, a JSON integer;
/// - `"previousHash"`: the previous record's hash, 64 lower-case hex digits.
///
/// A record's *hash* is SHA-256 of its canonical bytes. Those bytes are what the store keeps and what an export
/// holds, byte for byte, as the elements of its `Records` array; so anyone can check an export with a SHA-256, a JSON
/// reader and the audit public key: record *n*'s `previousHash` must be the SHA-256 of record *n−1*'s bytes, and each
/// signed ``Digest`` names the hash of the record at its head.
///
/// Encoding a record is split in two so that the part that needs the chain (which only the writer knows, inside its
/// transaction) is a cheap merge: ``prepare(_:)`` encodes the record's members once,
/// ``canonicalBytes(of:sequence:previousHash:)`` adds the two chain members in their sorted places.
public enum ChainedRecordEncoder {
    static let sequenceKey = "sequenceNumber"
    static let previousHashKey = "previousHash"

    /// A record with its members already encoded, waiting for its place in the chain.
    public struct Prepared: Sendable {
        /// The record's members as canonical `"key":value` text, sorted by key and separated by commas, in three
        /// parts: the members that sort before `previousHash`, those between it and `sequenceNumber`, and those after.
        let bytes: [UInt8]
        /// Where the first part ends and the second begins.
        let firstSplit: Int
        /// Where the second part ends and the third begins.
        let secondSplit: Int

        /// At least the length of the record's canonical bytes once linked: its members, the two chain members
        /// (`"previousHash"` with 64 hex digits, `"sequenceNumber"` with at most 20 digits), commas and braces.
        public var linkedLengthBound: Int { bytes.count + 128 }
    }

    private static let previousHashMember = Array("\"\(previousHashKey)\":\"".utf8)
    private static let sequenceMember = Array("\"\(sequenceKey)\":".utf8)

    /// Encodes a record's members.
    ///
    /// The members are written straight from the record's fields, in canonical order, without building the JSON value
    /// (this runs for every request the server answers); `RecordTests` checks the bytes against the canonical encoding
    /// of ``Record/jsonValue`` over records with every optional member present and absent.
    public static func prepare(_ record: Record) -> Prepared {
        var writer = CanonicalMemberWriter()
        writer.value("additionalEventData", record.additionalEventData)
        writer.string("awsRegion", record.awsRegion)
        writer.string("errorCode", record.errorCode)
        writer.string("errorMessage", record.errorMessage)
        writer.string("eventID", record.eventID)
        writer.string("eventName", record.eventName)
        writer.string("eventSource", record.eventSource.rawValue)
        writer.string("eventTime", Record.format(record.eventTime))
        writer.string("eventType", record.eventType.rawValue)
        writer.string("eventVersion", record.eventVersion)
        let firstSplit = writer.endPart()  // "previousHash" goes here
        writer.bool("readOnly", record.readOnly)
        writer.string("recipientAccountId", record.recipientAccountId)
        writer.string("requestID", record.requestID)
        writer.value("requestParameters", record.requestParameters)
        if !record.resources.isEmpty {
            writer.open("resources", UInt8(ascii: "["))
            for resource in record.resources {
                writer.open(nil, UInt8(ascii: "{"))
                writer.string("ARN", resource.arn)
                writer.string("accountId", resource.accountId)
                writer.string("type", resource.type)
                writer.close(UInt8(ascii: "}"))
            }
            writer.close(UInt8(ascii: "]"))
        }
        writer.value("responseElements", record.responseElements)
        let secondSplit = writer.endPart()  // "sequenceNumber" goes here
        writer.string("sourceIPAddress", record.sourceIPAddress)
        writer.string("userAgent", record.userAgent)
        let identity = record.userIdentity
        writer.open("userIdentity", UInt8(ascii: "{"))
        writer.string("accessKeyId", identity.accessKeyId)
        writer.string("accountId", identity.accountId)
        writer.string("arn", identity.arn)
        writer.string("principalId", identity.principalId)
        if let context = identity.sessionContext {
            writer.open("sessionContext", UInt8(ascii: "{"))
            if let issuer = context.sessionIssuer {
                writer.open("sessionIssuer", UInt8(ascii: "{"))
                writer.string("accountId", issuer.accountId)
                writer.string("arn", issuer.arn)
                writer.string("principalId", issuer.principalId)
                writer.string("type", issuer.type)
                writer.string("userName", issuer.userName)
                writer.close(UInt8(ascii: "}"))
            }
            writer.string("sessionName", context.sessionName)
            writer.close(UInt8(ascii: "}"))
        }
        writer.string("type", identity.type.rawValue)
        writer.string("userName", identity.userName)
        writer.close(UInt8(ascii: "}"))
        return Prepared(bytes: writer.bytes, firstSplit: firstSplit, secondSplit: secondSplit)
    }

    /// The canonical bytes of a prepared record at `sequence` after a record whose hash is `previousHash`.
    public static func canonicalBytes(of prepared: Prepared, sequence: Int64, previousHash: ChainHash) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(prepared.linkedLengthBound)
        prepared.bytes.withUnsafeBufferPointer { bytes in
            let first = UnsafeBufferPointer(rebasing: bytes[..<prepared.firstSplit])
            let second = UnsafeBufferPointer(rebasing: bytes[prepared.firstSplit..<prepared.secondSplit])
            let third = UnsafeBufferPointer(rebasing: bytes[prepared.secondSplit...])
            output.append(UInt8(ascii: "{"))
            if !first.isEmpty {
                output.append(contentsOf: first)
                output.append(UInt8(ascii: ","))
            }
            output.append(contentsOf: previousHashMember)
            previousHash.appendHex(to: &output)
            output.append(UInt8(ascii: "\""))
            if !second.isEmpty {
                output.append(UInt8(ascii: ","))
                output.append(contentsOf: second)
            }
            output.append(UInt8(ascii: ","))
            output.append(contentsOf: sequenceMember)
            CanonicalJSON.writeInteger(sequence, to: &output)
            if !third.isEmpty {
                output.append(UInt8(ascii: ","))
                output.append(contentsOf: third)
            }
            output.append(UInt8(ascii: "}"))
        }
        return output
    }

    /// The canonical bytes of `record` at `sequence` after `previousHash`.
    public static func canonicalBytes(of record: Record, sequence: Int64, previousHash: ChainHash) -> [UInt8] {
        canonicalBytes(of: prepare(record), sequence: sequence, previousHash: previousHash)
    }
}

/// Writes canonical `"key":value` members that its caller gives in canonical order (keys are ASCII identifiers that
/// need no escaping), with the commas between them, into nested objects and arrays.
struct CanonicalMemberWriter {
    var bytes: [UInt8] = []
    /// Whether the next member or element follows another at its level.
    private var needsComma = false

    init() { bytes.reserveCapacity(1024) }

    private mutating func key(_ key: StaticString?) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        guard let key else { return }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A string member; none when `value` is `nil`.
    mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        CanonicalJSON.writeString(value, to: &bytes)
    }

    mutating func bool(_ key: StaticString, _ value: Bool) {
        self.key(key)
        let literal: StaticString = value ? "true" : "false"
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// A JSON value member; none when `value` is `nil`.
    mutating func value(_ key: StaticString, _ value: JSONValue?) {
        guard let value else { return }
        self.key(key)
        CanonicalJSON.write(value, to: &bytes)
    }

    /// Opens an object or array (`{` or `[`), as a member named `key` or, without a key, as an array element.
    mutating func open(_ key: StaticString?, _ bracket: UInt8) {
        self.key(key)
        bytes.append(bracket)
        needsComma = false
    }

    mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        needsComma = true
    }

    /// Ends a part of the top-level members (see ``ChainedRecordEncoder/Prepared``): returns where the next begins.
    mutating func endPart() -> Int {
        needsComma = false
        return bytes.count
    }
}

/// The two chain members of a record's bytes, read without building the record (the verifier's fast path).
struct ChainFields {
    var sequence: Int64
    var previousHash: ChainHash
    /// Where the `eventTime` string's characters are, relative to the start of the record; `nil` when absent.
    var eventTime: Range<Int>? = nil

    private static let sequenceKey = Array(ChainedRecordEncoder.sequenceKey.utf8)
    private static let previousHashKey = Array(ChainedRecordEncoder.previousHashKey.utf8)
    private static let eventTimeKey = Array("eventTime".utf8)

    /// Reads the chain members from a record's bytes, checking that the bytes are one JSON object.
    static func read(_ bytes: UnsafeRawBufferPointer) throws -> ChainFields {
        var parser = RecordReader(bytes)
        parser.skipWhitespace()
        let start = parser.position
        var (fields, end) = try read(bytes, from: start)
        fields.eventTime = fields.eventTime.map { ($0.lowerBound + start)..<($0.upperBound + start) }
        parser.position = end
        parser.skipWhitespace()
        guard parser.isAtEnd else { throw parser.failure("trailing bytes after the record") }
        return fields
    }

    /// Reads the chain members of the object that starts at `start`; returns them and where the object ends.
    static func read(_ bytes: UnsafeRawBufferPointer, from start: Int) throws -> (ChainFields, end: Int) {
        var parser = RecordReader(bytes, position: start)
        try parser.expect(UInt8(ascii: "{"))
        var sequence: Int64?
        var previous: ChainHash?
        var eventTime: Range<Int>?
        parser.skipWhitespace()
        if parser.peek() != UInt8(ascii: "}") {
            while true {
                parser.skipWhitespace()
                let (keyRange, _) = try parser.skipString()
                let key = UnsafeRawBufferPointer(rebasing: bytes[keyRange])
                parser.skipWhitespace()
                try parser.expect(UInt8(ascii: ":"))
                parser.skipWhitespace()
                if key.elementsEqual(sequenceKey) {
                    guard sequence == nil else { throw parser.failure("duplicate sequenceNumber") }
                    sequence = try parser.parseInteger()
                } else if key.elementsEqual(previousHashKey) {
                    guard previous == nil else { throw parser.failure("duplicate previousHash") }
                    let (valueRange, escaped) = try parser.skipString()
                    guard !escaped, let hash = ChainHash.parseHex(UnsafeRawBufferPointer(rebasing: bytes[valueRange]))
                    else { throw parser.failure("previousHash is not 64 hex digits") }
                    previous = hash
                } else if key.elementsEqual(eventTimeKey), parser.peek() == UInt8(ascii: "\"") {
                    let (valueRange, _) = try parser.skipString()
                    eventTime = (valueRange.lowerBound - start)..<(valueRange.upperBound - start)
                } else {
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
        guard let sequence, let previous else { throw parser.failure("sequenceNumber or previousHash missing") }
        return (ChainFields(sequence: sequence, previousHash: previous, eventTime: eventTime), parser.position)
    }
}
