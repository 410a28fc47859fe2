import Crypto
import SealedSupport

/// One query parameter, percent-decoded and encoded again with `UriEncode`.
struct QueryParameter {
    var name: [UInt8]
    var value: [UInt8]

    /// The canonical order: by encoded name, then by encoded value, comparing bytes.
    static func canonicallyPrecedes(_ lhs: QueryParameter, _ rhs: QueryParameter) -> Bool {
        if lhs.name != rhs.name { return lhs.name.lexicographicallyPrecedes(rhs.name) }
        return lhs.value.lexicographicallyPrecedes(rhs.value)
    }

    func nameEquals(_ name: StaticString) -> Bool {
        name.withUTF8Buffer { self.name.elementsEqual($0) }
    }

    /// The decoded value as a string.
    var decodedValue: String {
        String(decoding: PercentEncoding.decode(value), as: UTF8.self)
    }
}

/// The pieces of the SigV4 algorithm shared by the signer and the verifier.
///
/// The steps follow "Create a signed AWS API request" in the IAM User Guide: step 1 (canonical request),
/// step 2 (its hash), step 3 (string to sign), step 4 (signing key and signature).
enum Canonical {
    static let algorithm = "AWS4-HMAC-SHA256"
    static let terminator = "aws4_request"

    /// Parses a raw query string (without `?`) into canonical parameters, in the order they appear.
    ///
    /// Per step 1 (`CanonicalQueryString`): split on `&`, then on the first `=` (no `=` means an empty value);
    /// each name and value is URI-encoded after decoding what the client encoded, so `%E1%88%B4` and `ሴ` give
    /// the same bytes. Empty components (`a=1&&b=2`) are skipped.
    static func queryParameters(_ query: String) -> [QueryParameter] {
        guard !query.isEmpty else { return [] }
        var parameters: [QueryParameter] = []
        query.utf8.forEachPiece(separatedBy: UInt8(ascii: "&")) { component in
            guard !component.isEmpty else { return }
            let name: Substring.UTF8View
            let value: Substring.UTF8View
            if let equals = component.firstIndex(of: UInt8(ascii: "=")) {
                name = component[component.startIndex..<equals]
                value = component[component.index(after: equals)...]
            } else {
                name = component
                value = component[component.endIndex...]
            }
            parameters.append(QueryParameter(name: reencoded(name), value: reencoded(value)))
        }
        return parameters
    }

    private static func reencoded(_ raw: Substring.UTF8View) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        if raw.contains(UInt8(ascii: "%")) {
            PercentEncoding.append(PercentEncoding.decode(raw), to: &out)
        } else {
            PercentEncoding.append(raw, to: &out)
        }
        return out
    }

    /// Appends `name=value` pairs joined with `&`; the parameters must already be in canonical order.
    static func appendQuery(_ parameters: some Sequence<QueryParameter>, to out: inout [UInt8]) {
        var first = true
        for parameter in parameters {
            if !first { out.append(UInt8(ascii: "&")) }
            first = false
            out.append(contentsOf: parameter.name)
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: parameter.value)
        }
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Appends a header value with SigV4's `Trimall`: leading and trailing whitespace removed, and every inner
    /// run of whitespace collapsed to one space, quotes or not (step 1, `CanonicalHeaders`).
    static func appendTrimmedValue(_ value: some Sequence<UInt8>, to out: inout [UInt8]) {
        var started = false
        var pendingSpace = false
        for byte in value {
            if isWhitespace(byte) {
                pendingSpace = started
            } else {
                if pendingSpace {
                    out.append(0x20)
                    pendingSpace = false
                }
                out.append(byte)
                started = true
            }
        }
    }

    /// The credential scope, `date/region/service/aws4_request`.
    static func scope(dateStamp: String, region: String, service: String) -> String {
        "\(dateStamp)/\(region)/\(service)/\(terminator)"
    }

    /// Step 3: `Algorithm \n RequestDateTime \n CredentialScope \n HashedCanonicalRequest`.
    static func stringToSign(canonicalRequest: [UInt8], amzDate: some StringProtocol, scope: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(algorithm.utf8.count + amzDate.utf8.count + scope.utf8.count + 67)
        out.append(contentsOf: algorithm.utf8)
        out.append(0x0A)
        out.append(contentsOf: amzDate.utf8)
        out.append(0x0A)
        out.append(contentsOf: scope.utf8)
        out.append(0x0A)
        SHA256.hash(data: canonicalRequest).withUnsafeBytes { Hex.append($0, to: &out) }
        return out
    }

    /// Step 4: the signing key, `HMAC` chained over the date, region, service and `aws4_request`, starting
    /// from `"AWS4" + secret`.
    static func signingKey(
        secretAccessKey: String,
        dateStamp: String,
        region: String,
        service: String
    )
        -> SymmetricKey
    {
        var seed: [UInt8] = Array("AWS4".utf8)
        seed.append(contentsOf: secretAccessKey.utf8)
        var key = SymmetricKey(data: seed)
        for step in [dateStamp, region, service, terminator] {
            let code = HMAC<SHA256>.authenticationCode(for: Array(step.utf8), using: key)
            key = SymmetricKey(data: code)
        }
        return key
    }

    /// An `HMAC<SHA256>` keyed with the signing key of step 4, ready to authenticate a string to sign.
    static func signingMAC(secretAccessKey: String, dateStamp: String, region: String, service: String) -> HMAC<SHA256>
    {
        HMAC(key: signingKey(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service))
    }
}

/// Canonical headers and the `SignedHeaders` list, built from (name, value) pairs.
///
/// Per step 1 (`CanonicalHeaders`, `SignedHeaders`): names are lower-cased, values trimmed with `Trimall`,
/// repeated names become one line whose values are joined with `,` in arrival order, and lines are sorted by
/// name.
struct CanonicalHeaders {
    /// `name:value\n` lines, sorted by name.
    var lines: [UInt8] = []
    /// Names joined with `;`.
    var signedHeaders: [UInt8] = []

    init(_ headers: [(name: String, value: String)]) {
        var entries: [(name: [UInt8], order: Int)] = []
        entries.reserveCapacity(headers.count)
        var totalLength = 0
        for (order, header) in headers.enumerated() {
            entries.append((name: header.name.utf8.map(Encoding.asciiLowercased), order: order))
            totalLength += header.name.utf8.count + header.value.utf8.count + 2
        }
        entries.sort { lhs, rhs in
            if lhs.name != rhs.name { return lhs.name.lexicographicallyPrecedes(rhs.name) }
            return lhs.order < rhs.order
        }
        lines.reserveCapacity(totalLength)
        signedHeaders.reserveCapacity(totalLength / 2)
        var previous: [UInt8]? = nil
        for entry in entries {
            if entry.name == previous {
                lines.append(UInt8(ascii: ","))
            } else {
                if previous != nil {
                    lines.append(0x0A)
                    signedHeaders.append(UInt8(ascii: ";"))
                }
                lines.append(contentsOf: entry.name)
                lines.append(UInt8(ascii: ":"))
                signedHeaders.append(contentsOf: entry.name)
                previous = entry.name
            }
            Canonical.appendTrimmedValue(headers[entry.order].value.utf8, to: &lines)
        }
        if previous != nil { lines.append(0x0A) }
    }
}

/// Step 1: `Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n Payload`.
///
/// `headerLines` already end in `\n`, so the blank line after them appears as in the specification.
func canonicalRequest(
    method: String,
    path: String,
    pathCanonicalization: PathCanonicalization,
    sortedQuery: [QueryParameter],
    headerLines: [UInt8],
    signedHeaders: some Collection<UInt8>,
    payload: String
) -> [UInt8] {
    var out: [UInt8] = []
    var capacity = method.utf8.count + path.utf8.count * 3 + headerLines.count + signedHeaders.count
    capacity += payload.utf8.count + 8
    for parameter in sortedQuery { capacity += parameter.name.count + parameter.value.count + 2 }
    out.reserveCapacity(capacity)
    out.append(contentsOf: method.utf8)
    out.append(0x0A)
    pathCanonicalization.appendCanonicalURI(of: path, to: &out)
    out.append(0x0A)
    Canonical.appendQuery(sortedQuery, to: &out)
    out.append(0x0A)
    out.append(contentsOf: headerLines)
    out.append(0x0A)
    out.append(contentsOf: signedHeaders)
    out.append(0x0A)
    out.append(contentsOf: payload.utf8)
    return out
}
