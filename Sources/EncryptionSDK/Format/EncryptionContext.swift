import SealedSupport

/// An encryption context: non-secret key–value pairs bound to a message as authenticated data.
///
/// It is stored in the message header (except pairs a required-encryption-context CMM keeps out) and
/// given to the keyrings, which bind it to the encrypted data keys.
public typealias EncryptionContext = [String: String]

/// The key that carries a signed message's verification key in its encryption context.
public let publicKeyContextKey = "aws-crypto-public-key"

/// The prefix of encryption-context keys reserved by the ESDK.
let reservedContextPrefix = "aws-crypto-"

enum ContextCoding {
    /// Serializes a context as ESDK spec `structures.md#encryption-context` prescribes: nothing for an
    /// empty map, otherwise `u16 count` and the pairs sorted by the keys' UTF-8 bytes.
    static func serialize(_ context: EncryptionContext) throws(EncryptionSDKError) -> [UInt8] {
        guard !context.isEmpty else { return [] }
        guard context.count <= Int(UInt16.max) else { throw .invalidContext("too many encryption context pairs") }
        // The pairs are sorted in a temporary buffer and written into an output of the exact length: `sorted`'s
        // array and the appends cost about two thirds of this function, which runs up to four times per seal+open.
        return try withUnsafeTemporaryAllocation(of: (key: String, value: String).self, capacity: context.count) {
            buffer throws(EncryptionSDKError) in
            var pairs = buffer
            _ = pairs.initialize(from: context)
            defer { pairs.deinitialize() }
            pairs.sort { utf8Precedes($0.key, $1.key) }
            var length = 2
            for pair in pairs {
                let keyLength = pair.key.utf8.count
                let valueLength = pair.value.utf8.count
                guard keyLength <= Int(UInt16.max), valueLength <= Int(UInt16.max) else {
                    throw .invalidContext("an encryption context key or value is longer than 65535 bytes")
                }
                length += 4 + keyLength + valueLength
            }
            guard length <= Int(UInt16.max) else {
                throw .invalidContext("the encryption context is longer than 65535 bytes")
            }
            return [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
                var offset = 0
                func write(_ value: Int) {
                    out[offset] = UInt8(truncatingIfNeeded: value >> 8)
                    out[offset + 1] = UInt8(truncatingIfNeeded: value)
                    offset += 2
                }
                func write(_ text: String) {
                    write(text.utf8.count)
                    offset += UnsafeMutableBufferPointer(rebasing: out[offset...]).initialize(from: text.utf8).1
                }
                write(pairs.count)
                for pair in pairs {
                    write(pair.key)
                    write(pair.value)
                }
                initialized = offset
            }
        }
    }

    /// Parses a serialized context, rejecting duplicates, invalid UTF-8 and trailing bytes. Pair order
    /// is not checked (ESDK spec `message-header.md#aad`: readers must not require it).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(EncryptionSDKError) -> EncryptionContext {
        guard !bytes.isEmpty else { return [:] }
        var reader = ByteReader(bytes)
        do {
            let count = Int(try reader.u16())
            guard count > 0 else { throw EncryptionSDKError.malformed("encryption context with zero pairs") }
            var context = EncryptionContext(minimumCapacity: count)
            for _ in 0..<count {
                let key = try reader.u16Prefixed()
                let value = try reader.u16Prefixed()
                guard let key = key.withUnsafeBytes(validUTF8String),
                    let value = value.withUnsafeBytes(validUTF8String)
                else { throw EncryptionSDKError.malformed("encryption context is not valid UTF-8") }
                guard context.updateValue(value, forKey: key) == nil else {
                    throw EncryptionSDKError.malformed("duplicate encryption context key")
                }
            }
            guard reader.remaining == 0 else {
                throw EncryptionSDKError.malformed("trailing bytes in encryption context")
            }
            return context
        } catch let error as EncryptionSDKError {
            throw error
        } catch {
            throw .malformed("truncated encryption context")
        }
    }

    /// The pairs stored in the header and the pairs kept out of it (authenticated only): those whose keys a
    /// required-encryption-context CMM listed. Without required keys, everything is stored (no copies made).
    static func split(
        _ context: EncryptionContext,
        required: [String]
    ) -> (stored: EncryptionContext, authOnly: EncryptionContext) {
        guard !required.isEmpty else { return (context, [:]) }
        let keys = Set(required)
        return (context.filter { !keys.contains($0.key) }, context.filter { keys.contains($0.key) })
    }

    /// Rejects a caller's context that uses the reserved `aws-crypto-` prefix.
    static func checkCallerContext(_ context: EncryptionContext) throws(EncryptionSDKError) {
        if let key = context.keys.first(where: { $0.hasPrefix(reservedContextPrefix) }) {
            throw .invalidContext("encryption context key \"\(key)\" uses the reserved prefix \(reservedContextPrefix)")
        }
    }
}

