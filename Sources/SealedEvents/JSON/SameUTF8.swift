internal import SealedSupport

extension String {
    /// Whether two strings have the same UTF-8 bytes (Swift's `==` also equates canonically equivalent strings).
    ///
    /// Compares the contiguous UTF-8 storage of native strings directly; the generic `elementsEqual` over two
    /// `UTF8View`s walks them index by index.
    @inline(__always)
    func hasSameUTF8(as other: String) -> Bool {
        // Strings with the same bytes are equal under `==` too, which settles most unequal pairs at once (small
        // strings compare their raw bits); equal ones may still be only canonically equivalent.
        guard self == other else { return false }
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
