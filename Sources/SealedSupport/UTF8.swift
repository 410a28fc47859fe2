/// The string of `bytes` if they are valid UTF-8, else `nil`: what `String(validating:as:)` returns.
///
/// `String(validating:as:)` takes its unspecialized generic path here, which looks up type metadata on every
/// call; decoding a contiguous buffer is the standard library's fast path. Decoding replaces each invalid
/// sequence with U+FFFD, so the decoded text holds exactly the input bytes only when there was nothing to
/// replace, that is when the input was valid.
package func validUTF8String(_ bytes: UnsafeRawBufferPointer) -> String? {
    let units = bytes.assumingMemoryBound(to: UInt8.self)
    var text = String(decoding: units, as: UTF8.self)
    let unchanged = text.withUTF8 { sameBytes($0, units) }
    return unchanged ? text : nil
}

/// Whether two byte buffers hold the same bytes.
package func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard let x = a.baseAddress, let y = b.baseAddress, x != y else { return true }
    var index = 0
    // Eight bytes at a time, then the tail.
    while index + 8 <= a.count {
        let u = UnsafeRawPointer(x + index).loadUnaligned(as: UInt64.self)
        let v = UnsafeRawPointer(y + index).loadUnaligned(as: UInt64.self)
        if u != v { return false }
        index += 8
    }
    while index < a.count {
        if x[index] != y[index] { return false }
        index += 1
    }
    return true
}

/// Whether `a`'s UTF-8 bytes order before `b`'s (`a.utf8.lexicographicallyPrecedes(b.utf8)`), comparing the
/// contiguous storage of native strings rather than walking two `UTF8View`s.
package func utf8Precedes(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            for index in 0..<min(x.count, y.count) where x[index] != y[index] { return x[index] < y[index] }
            return x.count < y.count
        }
    }
    if let fast, let result = fast { return result }
    return a.utf8.lexicographicallyPrecedes(b.utf8)
}
