/// A compiled IAM wildcard pattern: `*` matches any run of characters (including none, and across `:` and `/`), `?`
/// matches exactly one character; everything else matches itself.
///
/// Compiled once when a policy is parsed: `*` alone, literals and `prefix*` take fast paths; the rest use a linear
/// backtracking matcher over UTF-8 that steps whole characters (Unicode scalars) for `?` and `*`. Case-insensitive
/// patterns (actions) fold ASCII letters only, on the fly, so matching allocates nothing.
package struct WildcardPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written in the policy.
    package let source: String
    /// Whether the pattern was folded to lower case; the subject must be folded too.
    package let caseInsensitive: Bool
    private let form: Form

    private enum Form: Sendable, Hashable {
        case any
        case literal([UInt8])
        case prefix([UInt8])
        case glob([UInt8])
    }

    package init(_ source: String, caseInsensitive: Bool = false) {
        self.source = source
        self.caseInsensitive = caseInsensitive
        let bytes = caseInsensitive ? source.utf8.map(Self.fold) : Array(source.utf8)
        let wildcards = bytes.filter { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }
        if bytes == [UInt8(ascii: "*")] {
            form = .any
        } else if wildcards.isEmpty {
            form = .literal(bytes)
        } else if wildcards == [UInt8(ascii: "*")], bytes.last == UInt8(ascii: "*") {
            form = .prefix(Array(bytes.dropLast()))
        } else {
            form = .glob(bytes)
        }
    }

    package var description: String { source }

    @inline(__always)
    private static func fold(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Matches a subject (folding its ASCII case when the pattern is case-insensitive).
    package func matches(_ subject: String) -> Bool {
        if case .any = form { return true }
        var subject = subject
        return subject.withUTF8 { match($0) }
    }

    private func match(_ subject: UnsafeBufferPointer<UInt8>) -> Bool {
        switch form {
        case .any:
            return true
        case .literal(let literal):
            return subject.count == literal.count
                && Self.equal(literal, subject, count: literal.count, fold: caseInsensitive)
        case .prefix(let prefix):
            return subject.count >= prefix.count
                && Self.equal(prefix, subject, count: prefix.count, fold: caseInsensitive)
        case .glob(let pattern):
            return Self.glob(pattern, subject, fold: caseInsensitive)
        }
    }

    @inline(__always)
    private static func equal(_ pattern: [UInt8], _ subject: UnsafeBufferPointer<UInt8>, count: Int, fold: Bool) -> Bool
    {
        pattern.withUnsafeBufferPointer { pattern in
            if fold {
                for i in 0..<count where pattern[i] != Self.fold(subject[i]) { return false }
            } else {
                for i in 0..<count where pattern[i] != subject[i] { return false }
            }
            return true
        }
    }

    private static func nextScalar(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i + 1
        while j < s.count, s[j] & 0xC0 == 0x80 { j += 1 }
        return j
    }

    private static func glob(_ pattern: [UInt8], _ subject: UnsafeBufferPointer<UInt8>, fold: Bool) -> Bool {
        let star = UInt8(ascii: "*")
        let question = UInt8(ascii: "?")
        var p = 0
        var s = 0
        var starP = -1
        var starS = 0
        while s < subject.count {
            if p < pattern.count, pattern[p] == question {
                p += 1
                s = nextScalar(subject, s)
            } else if p < pattern.count, pattern[p] == star {
                starP = p
                p += 1
                starS = s
            } else if p < pattern.count, pattern[p] == (fold ? Self.fold(subject[s]) : subject[s]) {
                p += 1
                s += 1
            } else if starP >= 0 {
                p = starP + 1
                starS = nextScalar(subject, starS)
                s = starS
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}
