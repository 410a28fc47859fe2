import SealedSupport

/// How the path of a request becomes the `CanonicalURI` line of the canonical request.
///
/// "Create a signed AWS API request" (IAM User Guide, step 1, `CanonicalURI`) asks for the URI-encoded absolute
/// path, and adds: "Each path segment must be URI-encoded twice (except for Amazon S3 which only gets
/// URI-encoded once)". AWS services other than S3 also normalize the path first. The two rules here take the
/// path exactly as it was sent on the wire (already percent-encoded once by the client), so:
///
/// - ``normalized``, for every service but S3: remove `.` and `..` segments (RFC 3986 § 5.2.4) and empty
///   segments (`//`), keep a trailing `/`, then URI-encode every byte of each segment, including a `%`. A wire
///   path `/a%20b` becomes `/a%2520b`: the second encoding.
/// - ``unnormalized``, for S3: keep the segments as they are, and URI-encode each segment once: a wire path
///   `/a%20b` stays `/a%20b`, and a byte the client left unencoded, such as `$`, becomes `%24`.
///
/// The AWS test suite writes its paths unencoded (`/example space/`), which both rules turn into
/// `/example%20space/`; its `-normalized` cases follow ``normalized`` and its `-unnormalized` cases
/// ``unnormalized``.
public struct PathCanonicalization: Sendable, Hashable, CustomStringConvertible {
    private enum Rule: Hashable {
        case normalized
        case unnormalized
    }

    private let rule: Rule

    private init(_ rule: Rule) {
        self.rule = rule
    }

    /// Normalize the path and URI-encode it again: every AWS service except Amazon S3.
    public static let normalized = PathCanonicalization(.normalized)

    /// Keep the path as sent and URI-encode each segment once: Amazon S3.
    public static let unnormalized = PathCanonicalization(.unnormalized)

    public var description: String {
        switch rule {
        case .normalized: "normalized"
        case .unnormalized: "unnormalized"
        }
    }

    /// Appends the canonical URI of `path`.
    func appendCanonicalURI(of path: String, to out: inout [UInt8]) {
        let slash = UInt8(ascii: "/")
        let segments = path.utf8.split(separator: slash, omittingEmptySubsequences: false)
        switch rule {
        case .normalized:
            var kept: [Substring.UTF8View] = []
            kept.reserveCapacity(segments.count)
            var trailingSlash = false
            for (index, segment) in segments.enumerated() {
                let isLast = index == segments.count - 1
                if segment.isEmpty || segment.elementsEqual(".".utf8) {
                    if isLast { trailingSlash = true }
                } else if segment.elementsEqual("..".utf8) {
                    _ = kept.popLast()
                    if isLast { trailingSlash = true }
                } else {
                    kept.append(segment)
                }
            }
            out.append(slash)
            for (index, segment) in kept.enumerated() {
                if index > 0 { out.append(slash) }
                PercentEncoding.append(segment, to: &out)
            }
            if trailingSlash && !kept.isEmpty { out.append(slash) }
        case .unnormalized:
            if path.isEmpty {
                out.append(slash)
                return
            }
            for (index, segment) in segments.enumerated() {
                if index > 0 { out.append(slash) }
                if segment.contains(UInt8(ascii: "%")) {
                    PercentEncoding.append(PercentEncoding.decode(segment), to: &out)
                } else {
                    PercentEncoding.append(segment, to: &out)
                }
            }
        }
    }
}
