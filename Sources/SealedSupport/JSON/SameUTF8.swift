internal import Foundation  // memchr, memcmp

extension String {
    /// Whether two strings have the same UTF-8 bytes (Swift's `==` also equates canonically equivalent strings).
    ///
    /// Compares the contiguous UTF-8 storage of native strings directly; the generic `elementsEqual` over two
    /// `UTF8View`s walks them index by index.
    @inline(__always)
    package func hasSameUTF8(as other: String) -> Bool {
        // Strings with the same bytes are equal under `==` too, which settles most unequal pairs at once (small
        // strings compare their raw bits); equal ones may still be only canonically equivalent.
        guard self == other else { return false }
        let lhs = utf8
        let rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        let fast = lhs.withContiguousStorageIfAvailable { a in
            rhs.withContiguousStorageIfAvailable { b in sameUTF8Bytes(a, b) }
        }
        if let fast, let result = fast { return result }
        return lhs.elementsEqual(rhs)
    }
}

/// Whether two byte buffers hold the same bytes (`memcmp`; not constant-time: for identifiers, never secrets).
@inline(__always)
package func sameUTF8Bytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard let x = a.baseAddress, let y = b.baseAddress, x != y else { return true }
    return memcmp(x, y, a.count) == 0
}

extension JSONParser {
    /// The string of `bytes` if they are valid UTF-8, else `nil`.
    ///
    /// Decoding replaces each invalid sequence with U+FFFD, so the decoded text holds exactly the input bytes only
    /// when there was nothing to replace; decoding a contiguous buffer is the standard library's fast path.
    static func validUTF8String(_ bytes: UnsafeRawBufferPointer) -> String? {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        var text = String(decoding: units, as: UTF8.self)
        let unchanged = text.withUTF8 { sameUTF8Bytes($0, units) }
        return unchanged ? text : nil
    }
}
