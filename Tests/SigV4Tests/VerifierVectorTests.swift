import Foundation
import SigV4
import Testing

/// The verifier against the signed requests of the AWS SigV4 test suite: each verifies as it is, and a one-byte
/// change to any signed part (method, path, query, a signed header value, the date, the body when it is hashed,
/// the credential scope, the signature) makes it fail.
struct VerifierVectorTests {
    @Test("header-signed requests verify, and every one-byte change fails", arguments: try VectorCase.all())
    func headerSignedRequests(_ vector: VectorCase) async throws {
        let signed = try vector.signedRequest(.header)
        let verifier = try Self.verifier(for: vector)

        let verification = try await verifier.verify(signed)
        let principal = try #require(
            verification.principal,
            "\(verification.rejection.map(String.init(describing:)) ?? "")"
        )
        #expect(principal.accessKeyId == vector.context.credentials.access_key_id)
        #expect(principal.scope.description == "20150830/us-east-1/service/aws4_request")
        #expect(principal.signedAt == (try vector.context.date))
        #expect(principal.presignedUntil == nil)

        try await Self.expectEveryMutationRejected(
            signed,
            message: try vector.signedMessage(.header),
            mode: .header,
            by: verifier
        )
        try await Self.expectBenignChangesAccepted(signed, by: verifier)
    }

    @Test("presigned URLs verify, and every one-byte change fails", arguments: try VectorCase.presigned())
    func presignedRequests(_ vector: VectorCase) async throws {
        let signed = try vector.signedRequest(.query)
        let verifier = try Self.verifier(for: vector)
        let verification = try await verifier.verify(signed)

        if vector.name == "post-sts-header-after" {
            // The README's known exception: the token was appended to the URL after signing, and every query
            // parameter but X-Amz-Signature is signed, so the signature cannot match.
            #expect(verification.rejection?.reason == .signatureMismatch)
            return
        }
        let principal = try #require(
            verification.principal,
            "\(verification.rejection.map(String.init(describing:)) ?? "")"
        )
        #expect(principal.accessKeyId == vector.context.credentials.access_key_id)
        #expect(principal.presignedUntil == (try vector.context.date).addingTimeInterval(3600))
        #expect(principal.hasSessionToken == (vector.context.credentials.token != nil))

        try await Self.expectEveryMutationRejected(
            signed,
            message: try vector.signedMessage(.query),
            mode: .query,
            by: verifier
        )
        try await Self.expectBenignChangesAccepted(signed, by: verifier)
    }

    // MARK: Helpers

    static func verifier(for vector: VectorCase) throws -> Verifier {
        let context = vector.context
        let now = try context.date
        let secret = Verifier.Secret(
            secretAccessKey: context.credentials.secret_access_key,
            sessionToken: context.credentials.token
        )
        let accessKeyId = context.credentials.access_key_id
        return Verifier(
            region: context.region,
            services: [context.service],
            // `post-unsigned-payload` declares UNSIGNED-PAYLOAD; the other cases never do.
            options: Verifier.Options(pathCanonicalization: context.pathCanonicalization, allowsUnsignedPayload: true),
            now: { now },
            credentials: { $0 == accessKeyId ? secret : nil }
        )
    }

    /// Every one-byte change to a signed element, each applied alone to `signed`, read from `message`.
    static func mutations(
        of signed: Request,
        message: [UInt8],
        mode: VectorCase.Mode
    ) throws -> [(label: String, request: Request)] {
        var mutations: [(label: String, request: Request)] = []
        func add(_ label: String, _ change: (inout Request) -> Void) {
            var copy = signed
            change(&copy)
            mutations.append((label, copy))
        }

        add("method") { $0.method = $0.method.changingLastCharacter() }
        add("path") { $0.path = $0.path.changingLastCharacter() }

        let signedHeaders: [String]
        switch mode {
        case .header:
            let authorization = try #require(signed.headers.firstIndex { $0.name.lowercased() == "authorization" })
            let value = signed.headers[authorization].value
            let list = try #require(value.firstMatch(of: /SignedHeaders=([^,]+)/)?.1)
            signedHeaders = list.split(separator: ";").map(String.init)
            if !signed.query.isEmpty {
                add("query") { $0.query = $0.query.changingLastCharacter() }
            }
            add("signature") { $0.headers[authorization].value = value.changingLastHexDigit() }
            add("credential scope region") {
                $0.headers[authorization].value = value.replacingOccurrences(of: "/us-east-1/", with: "/us-east-2/")
            }
            add("credential scope date") {
                $0.headers[authorization].value = value.replacingOccurrences(of: "/20150830/", with: "/20150831/")
            }
            let date = try #require(signed.headers.firstIndex { $0.name.lowercased() == "x-amz-date" })
            add("X-Amz-Date") { $0.headers[date].value = $0.headers[date].value.changingSecondsDigit() }
        case .query:
            var components = signed.query.split(separator: "&").map(String.init)
            let list = try #require(components.first { $0.hasPrefix("X-Amz-SignedHeaders=") })
            signedHeaders = list.dropFirst("X-Amz-SignedHeaders=".count).replacingOccurrences(of: "%3B", with: ";")
                .split(separator: ";").map(String.init)
            for (index, component) in components.enumerated() {
                let name = String(component.prefix { $0 != "=" })
                let label = name == "X-Amz-Signature" ? "signature" : "query parameter \(name)"
                let changed =
                    name == "X-Amz-Signature" ? component.changingLastHexDigit() : component.changingLastCharacter()
                add(label) { message in
                    components[index] = changed
                    message.query = components.joined(separator: "&")
                }
                components[index] = component
            }
            let date = try #require(components.firstIndex { $0.hasPrefix("X-Amz-Date=") })
            add("X-Amz-Date (a valid other second)") { message in
                var changed = components
                changed[date] = changed[date].changingSecondsDigit()
                message.query = changed.joined(separator: "&")
            }
        }

        for name in signedHeaders where name != "x-amz-date" {
            guard let index = signed.headers.lastIndex(where: { $0.name.lowercased() == name }) else { continue }
            add("signed header \(name)") { $0.headers[index].value = $0.headers[index].value.changingLastCharacter() }
        }

        let unsignedPayload = signed.headers.contains {
            $0.name.lowercased() == "x-amz-content-sha256" && $0.value == "UNSIGNED-PAYLOAD"
        }
        if signed.payload != .empty && !unsignedPayload {
            // The body ends the file: change its last byte and read the message again.
            var changed = message
            changed[changed.count - 1] &+= 1
            mutations.append((label: "body", request: try Request(httpMessage: changed)))
        }
        return mutations
    }

    static func expectEveryMutationRejected(
        _ signed: Request,
        message: [UInt8],
        mode: VectorCase.Mode,
        by verifier: Verifier
    ) async throws {
        let mutations = try mutations(of: signed, message: message, mode: mode)
        #expect(mutations.count >= 6)
        for mutation in mutations {
            let verification = try await verifier.verify(mutation.request)
            #expect(verification.principal == nil, "a changed \(mutation.label) still verified")
        }
    }

    /// The README's changes that must not break a signature: the case of a header name, and whitespace added
    /// inside a header value.
    static func expectBenignChangesAccepted(_ signed: Request, by verifier: Verifier) async throws {
        var uppercased = signed
        uppercased.headers = signed.headers.map { (name: $0.name.uppercased(), value: $0.value) }
        #expect(try await verifier.verify(uppercased).principal != nil, "upper-cased header names")

        var spaced = signed
        for index in spaced.headers.indices where spaced.headers[index].name.lowercased() != "authorization" {
            let value = spaced.headers[index].value.replacingOccurrences(of: " ", with: " \t  ")
            spaced.headers[index].value = "  " + value + "\t"
        }
        #expect(try await verifier.verify(spaced).principal != nil, "whitespace added in header values")
    }
}

extension String {
    /// The string with its last character replaced by the next Unicode scalar, or `/` by `x`.
    func changingLastCharacter() -> String {
        guard let last = unicodeScalars.last else { return "x" }
        let replacement: Unicode.Scalar = last == "/" ? "x" : Unicode.Scalar(last.value + 1) ?? "x"
        var scalars = String.UnicodeScalarView(unicodeScalars.dropLast())
        scalars.append(replacement)
        return String(scalars)
    }

    /// The string with its last character, a hex digit, replaced by another hex digit.
    func changingLastHexDigit() -> String {
        guard let last else { return self }
        return String(dropLast()) + (last == "0" ? "1" : "0")
    }

    /// An `X-Amz-Date` (alone or as `X-Amz-Date=…`) moved by one second, still a valid date.
    func changingSecondsDigit() -> String {
        var characters = Array(self)
        let index = characters.count - 2  // the units of the seconds, before `Z`
        characters[index] = characters[index] == "0" ? "1" : "0"
        return String(characters)
    }
}
