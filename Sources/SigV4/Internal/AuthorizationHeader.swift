/// The parts of an `Authorization` header ("Authentication methods": `AWS4-HMAC-SHA256 Credential=…,
/// SignedHeaders=…, Signature=…`), found on its contiguous UTF-8 bytes: this runs for every request a server verifies,
/// and walking a `Substring`'s views calls into the standard library for every byte.
enum AuthorizationHeader {
    /// Where each part is, as offsets into the header's bytes.
    struct Parts {
        var algorithm: Range<Int>
        var credential: Range<Int>
        var signedHeaders: Range<Int>
        var signature: Range<Int>
    }

    /// Why a header is malformed, in the verifier's words.
    struct Problem: Error {
        var detail: String
    }

    /// The parts of a header: the algorithm up to the first space of the trimmed value, then comma-separated
    /// `Name=value` components, each trimmed, empty ones skipped, each of the three names exactly once.
    static func parts(of bytes: UnsafeBufferPointer<UInt8>) -> Result<Parts, Problem> {
        func trimmed(_ range: Range<Int>) -> Range<Int> {
            var (start, end) = (range.lowerBound, range.upperBound)
            while start < end, Canonical.isWhitespace(bytes[start]) { start += 1 }
            while end > start, Canonical.isWhitespace(bytes[end - 1]) { end -= 1 }
            return start..<end
        }
        func equals(_ range: Range<Int>, _ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == range.count
                && name.withUTF8Buffer { name in zip(bytes[range], name).allSatisfy { $0 == $1 } }
        }
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        let value = trimmed(0..<bytes.count)
        guard let space = bytes[value].firstIndex(of: UInt8(ascii: " ")) else {
            return .failure(Problem(detail: "the Authorization header has no components"))
        }
        var components: [Range<Int>?] = [nil, nil, nil]  // Credential, SignedHeaders, Signature
        var start = space
        while start <= value.upperBound {
            let end = bytes[start..<value.upperBound].firstIndex(of: UInt8(ascii: ",")) ?? value.upperBound
            defer { start = end + 1 }
            let piece = trimmed(start..<end)
            guard !piece.isEmpty else { continue }
            guard let equal = bytes[piece].firstIndex(of: UInt8(ascii: "=")), equal != piece.lowerBound else {
                return .failure(Problem(detail: "the Authorization header has a component without a name"))
            }
            let name = piece.lowerBound..<equal
            let slot: Int
            if equals(name, "Credential") {
                slot = 0
            } else if equals(name, "SignedHeaders") {
                slot = 1
            } else if equals(name, "Signature") {
                slot = 2
            } else {
                return .failure(Problem(detail: "the Authorization header has an unknown component \(text(name))"))
            }
            guard components[slot] == nil else {
                return .failure(Problem(detail: "the Authorization header repeats \(text(name))"))
            }
            components[slot] = (equal + 1)..<piece.upperBound
        }
        guard let credential = components[0], let signedHeaders = components[1], let signature = components[2] else {
            return .failure(Problem(detail: "the Authorization header needs Credential, SignedHeaders and Signature"))
        }
        return .success(
            Parts(
                algorithm: value.lowerBound..<space,
                credential: credential,
                signedHeaders: signedHeaders,
                signature: signature
            )
        )
    }
}
