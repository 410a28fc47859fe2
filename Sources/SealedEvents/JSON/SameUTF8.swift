extension String {
    /// Whether two strings have the same UTF-8 bytes (Swift's `==` also equates canonically equivalent strings).
    ///
    /// Compares the contiguous UTF-8 storage of native strings directly; the generic `elementsEqual` over two
    /// `UTF8View`s walks them index by index.
    @inline(__always)
    func hasSameUTF8(as other: String) -> Bool {
        let lhs = utf8
        let rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        let fast = lhs.withContiguousStorageIfAvailable { a in
            rhs.withContiguousStorageIfAvailable { b in sameBytes(a, b) }
        }
        if let fast, let result = fast { return result }
        return lhs.elementsEqual(rhs)
    }
}

/// Whether two byte buffers hold the same bytes.
@inline(__always)
func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
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
