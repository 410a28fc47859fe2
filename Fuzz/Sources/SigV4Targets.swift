import Foundation
import SigV4

/// SigV4 verification of a raw HTTP request (the AWS test suite's `.txt` request format: request line, `Name:value`
/// header lines, a blank line, the body), signed in its `Authorization` header or as a presigned URL.
enum SigV4Targets {
    /// The AWS suite's example credentials and signing time, so that the committed seeds (the suite's signed
    /// requests) verify and mutations start from accepted requests.
    static let accessKeyId = "AKIDEXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let signingTime = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static let verifier = Verifier(region: "us-east-1", services: ["service"], now: { signingTime }) { id in
        id == accessKeyId ? Verifier.Secret(secretAccessKey: secret) : nil
    }

    /// Any request is verified or rejected with a reason, never a crash. A well-formed request stripped of its
    /// signature and signed again by ``Signer`` (in its headers or its query) verifies: the signer and the verifier
    /// canonicalize alike.
    static let verify: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        guard let request = parse(input) else { return }
        _ = FuzzCheck.blocking { try? await verifier.verify(request) }

        guard request.isWellFormed else { return }
        let unsigned = request.strippingSignature()
        let credentials = Credentials(accessKeyId: accessKeyId, secretAccessKey: secret)
        var signed = unsigned
        if input.first.map({ $0 & 1 == 0 }) ?? true {
            let signature = Signer().sign(
                unsigned,
                credentials: credentials,
                region: "us-east-1",
                service: "service",
                date: signingTime
            )
            signed.headers += signature.headers
        } else {
            signed.query =
                Signer().presign(
                    unsigned,
                    credentials: credentials,
                    region: "us-east-1",
                    service: "service",
                    date: signingTime,
                    expires: .seconds(300)
                ).query
        }
        let final = signed
        let verdict = FuzzCheck.blocking { try? await verifier.verify(final) }
        guard case .verified = verdict else {
            FuzzCheck.fail(
                "a request the signer signed is not verified: \(verdict.map { "\($0)" } ?? "lookup failed"); "
                    + "method \(signed.method.debugDescription) path \(signed.path.debugDescription) "
                    + "query \(signed.query.debugDescription) headers \(signed.headers.map(\.name))"
            )
        }
    }

    /// The request in the suite's text format, or `nil` when it has no request line.
    static func parse(_ input: UnsafeRawBufferPointer) -> Request? {
        let text = [UInt8](input)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var bodyStart = text.count
        for index in text.indices where text[index] == UInt8(ascii: "\n") {
            let line = text[start..<index]
            if line.isEmpty || line == [UInt8(ascii: "\r")] {
                bodyStart = index + 1
                break
            }
            lines.append(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
            start = index + 1
        }
        if bodyStart == text.count, start < text.count { lines.append(text[start...]) }
        guard let requestLine = lines.first else { return nil }
        let parts = requestLine.split(separator: UInt8(ascii: " "), maxSplits: 1)
        guard parts.count == 2 else { return nil }
        var target = parts[1]
        if let version = target.lastIndex(of: UInt8(ascii: " ")) { target = target[..<version] }
        let path: ArraySlice<UInt8>
        var query: ArraySlice<UInt8> = []
        if let mark = target.firstIndex(of: UInt8(ascii: "?")) {
            path = target[..<mark]
            query = target[(mark + 1)...]
        } else {
            path = target
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            headers.append(
                (
                    name: String(decoding: line[..<colon], as: UTF8.self),
                    value: String(decoding: line[(colon + 1)...], as: UTF8.self)
                )
            )
        }
        let body = bodyStart < text.count ? Array(text[bodyStart...]) : []
        return Request(
            method: String(decoding: parts[0], as: UTF8.self),
            path: String(decoding: path, as: UTF8.self),
            query: String(decoding: query, as: UTF8.self),
            headers: headers,
            payload: .body(body)
        )
    }
}

extension Request {
    /// What an HTTP server would deliver: a token method, an origin-form path, header names that are tokens, header
    /// values without control characters, and a `Host`.
    fileprivate var isWellFormed: Bool {
        func isToken(_ text: String) -> Bool {
            !text.isEmpty && text.utf8.allSatisfy { byte in
                (0x21...0x7E).contains(byte) && !"\"(),/:;<=>?@[\\]{}".utf8.contains(byte)
            }
        }
        return isToken(method) && path.hasPrefix("/")
            && path.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "#") }
            && query.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "#") }
            && headers.allSatisfy { isToken($0.name) && $0.value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F } }
            && headers.contains { $0.name.lowercased() == "host" }
    }

    /// The request without its signature: no `Authorization`, `X-Amz-Date` or session token header, no `X-Amz-`
    /// authentication parameter in the query.
    fileprivate func strippingSignature() -> Request {
        var copy = self
        let signing: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]
        copy.headers.removeAll { signing.contains($0.name.lowercased()) }
        copy.query = query.split(separator: "&", omittingEmptySubsequences: false)
            .filter { !$0.lowercased().hasPrefix("x-amz-") }
            .joined(separator: "&")
        return copy
    }
}
