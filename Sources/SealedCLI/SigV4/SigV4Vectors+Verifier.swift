internal import Foundation
internal import SigV4

/// The verifier's checks of one case: the signed request verifies, one-byte changes to any signed part do not,
/// benign changes still do.
extension SigV4Vectors.Case {
    func runVerifier(_ mode: Mode, context: Context, recorder: inout Recorder) async {
        let prefix = mode.rawValue + "/"
        let signedFile = file(mode, "signed-request.txt", classic: "sreq")
        let message: [UInt8]
        let signed: Request
        let date: Date
        do throws(CheckFailure) {
            message = try bytes(signedFile)
            signed = try request(signedFile, from: message)
            date = try context.date
        } catch {
            recorder.record(prefix + "verify", .failure(error))
            return
        }
        let verifier = context.verifier(now: date)

        // The suite's known exception: the token was appended to the URL after signing, and every query
        // parameter but X-Amz-Signature is signed, so the signature cannot match.
        if mode == .query && context.tokenAddedAfterSigning {
            let verification = await verify(signed, with: verifier)
            switch verification {
            case .verified:
                recorder.record(
                    prefix + "verify",
                    .failure(CheckFailure("verified, but its session token was added after signing"))
                )
            case .rejected(let rejection) where rejection.reason == .signatureMismatch:
                recorder.record(
                    prefix + "verify",
                    .passed("rejected as expected (session token added after signing): \(rejection.reason)")
                )
            case .rejected(let rejection):
                recorder.record(
                    prefix + "verify",
                    .failure(CheckFailure("expected signatureMismatch, got \(rejection)"))
                )
            }
            return
        }

        let verified = await recorder.check(prefix + "verify") { () async throws(CheckFailure) in
            let principal = try verifiedPrincipal(await verify(signed, with: verifier))
            try expectEqual(principal.accessKeyId, context.credentials.accessKeyId, what: "access key id")
            try expectEqual(principal.scope.description, try context.scope, what: "credential scope")
            guard principal.signedAt == date else {
                throw CheckFailure("signed at \(principal.signedAt), expected \(date)")
            }
            switch mode {
            case .header:
                guard principal.presignedUntil == nil else {
                    throw CheckFailure("a header-signed request verified as presigned")
                }
            case .query:
                let lifetime = try context.presignedLifetime
                let end = date.addingTimeInterval(TimeInterval(lifetime))
                guard principal.presignedUntil == end else {
                    throw CheckFailure(
                        "presigned until \(principal.presignedUntil.map { "\($0)" } ?? "nil"), expected \(end)"
                    )
                }
                guard principal.hasSessionToken == (context.credentials.token != nil) else {
                    throw CheckFailure("hasSessionToken is \(principal.hasSessionToken)")
                }
            }
        }

        // Changes to a request that does not verify prove nothing.
        guard verified else { return }

        await recorder.check(prefix + "one-byte changes") { () async throws(CheckFailure) in
            let changes = try Self.changes(of: signed, message: message, mode: mode, file: signedFile)
            guard changes.count >= 6 else {
                throw CheckFailure("only \(changes.count) signed parts found to change")
            }
            var accepted: [String] = []
            for change in changes {
                if await verify(change.request, with: verifier).principal != nil { accepted.append(change.label) }
            }
            guard accepted.isEmpty else {
                throw CheckFailure("still verified after a change to: \(accepted.joined(separator: ", "))")
            }
        }

        await recorder.check(prefix + "benign changes") { () async throws(CheckFailure) in
            var uppercased = signed
            uppercased.headers = signed.headers.map { (name: $0.name.uppercased(), value: $0.value) }
            var spaced = signed
            for index in spaced.headers.indices where spaced.headers[index].name.lowercased() != "authorization" {
                let value = spaced.headers[index].value.replacingOccurrences(of: " ", with: " \t  ")
                spaced.headers[index].value = "  " + value + "\t"
            }
            var rejected: [String] = []
            for (label, request) in [
                ("upper-cased header names", uppercased), ("whitespace added in header values", spaced),
            ] {
                if let rejection = await verify(request, with: verifier).rejection {
                    rejected.append("\(label) (\(rejection.reason))")
                }
            }
            guard rejected.isEmpty else {
                throw CheckFailure("rejected after \(rejected.joined(separator: ", "))")
            }
        }
    }

    private func verify(_ request: Request, with verifier: Verifier) async -> Verification {
        do {
            return try await verifier.verify(request)
        } catch {
            // The lookup of this runner never throws; keep the verdict shape anyway.
            return .rejected(Rejection(.unknownAccessKey, detail: "the credential lookup failed: \(error)"))
        }
    }

    private func verifiedPrincipal(_ verification: Verification) throws(CheckFailure) -> Principal {
        switch verification {
        case .verified(let principal): return principal
        case .rejected(let rejection): throw CheckFailure("rejected: \(rejection)")
        }
    }

    /// Every one-byte change to a signed element, each applied alone to `signed` (read from `message`).
    private static func changes(
        of signed: Request,
        message: [UInt8],
        mode: Mode,
        file: String
    ) throws(CheckFailure) -> [(label: String, request: Request)] {
        var changes: [(label: String, request: Request)] = []
        func add(_ label: String, _ change: (inout Request) -> Void) {
            var copy = signed
            change(&copy)
            changes.append((label, copy))
        }

        add("method") { $0.method = $0.method.changingLastCharacter() }
        add("path") { $0.path = $0.path.changingLastCharacter() }

        let signedHeaders: [Substring]
        switch mode {
        case .header:
            guard let authorization = signed.headers.firstIndex(where: { $0.name.lowercased() == "authorization" })
            else { throw CheckFailure("\(file) has no Authorization header") }
            let value = signed.headers[authorization].value
            guard let list = value.component(after: "SignedHeaders="),
                let credential = value.component(after: "Credential=")
            else { throw CheckFailure("the Authorization header of \(file) lacks SignedHeaders or Credential") }
            signedHeaders = list.split(separator: ";")
            let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
            guard scope.count == 5 else { throw CheckFailure("the credential of \(file) has no scope") }
            if !signed.query.isEmpty {
                add("query") { $0.query = $0.query.changingLastCharacter() }
            }
            add("signature") { $0.headers[authorization].value = value.changingLastHexDigit() }
            add("credential scope region") {
                $0.headers[authorization].value = value.replacingOccurrences(
                    of: "/\(scope[2])/",
                    with: "/\(String(scope[2]).changingLastCharacter())/"
                )
            }
            add("credential scope date") {
                $0.headers[authorization].value = value.replacingOccurrences(
                    of: "/\(scope[1])/",
                    with: "/\(String(scope[1]).changingLastCharacter())/"
                )
            }
            guard let date = signed.headers.firstIndex(where: { $0.name.lowercased() == "x-amz-date" }) else {
                throw CheckFailure("\(file) has no X-Amz-Date header")
            }
            add("X-Amz-Date") { $0.headers[date].value = $0.headers[date].value.changingSecondsDigit() }
        case .query:
            let components = signed.query.split(separator: "&").map(String.init)
            guard let list = components.first(where: { $0.hasPrefix("X-Amz-SignedHeaders=") }) else {
                throw CheckFailure("the query of \(file) has no X-Amz-SignedHeaders")
            }
            signedHeaders = list.dropFirst("X-Amz-SignedHeaders=".count)
                .replacingOccurrences(of: "%3B", with: ";").split(separator: ";")
            for (index, component) in components.enumerated() {
                let name = String(component.prefix { $0 != "=" })
                let isSignature = name == "X-Amz-Signature"
                var changed = components
                changed[index] =
                    isSignature ? component.changingLastHexDigit() : component.changingLastCharacter()
                add(isSignature ? "signature" : "query parameter \(name)") {
                    $0.query = changed.joined(separator: "&")
                }
            }
            guard let date = components.firstIndex(where: { $0.hasPrefix("X-Amz-Date=") }) else {
                throw CheckFailure("the query of \(file) has no X-Amz-Date")
            }
            var changed = components
            changed[date] = changed[date].changingSecondsDigit()
            add("X-Amz-Date (a valid other second)") { $0.query = changed.joined(separator: "&") }
        }

        for name in signedHeaders where name != "x-amz-date" {
            guard let index = signed.headers.lastIndex(where: { $0.name.lowercased() == name }) else { continue }
            add("signed header \(name)") {
                $0.headers[index].value = $0.headers[index].value.changingLastCharacter()
            }
        }

        let unsignedPayload = signed.headers.contains {
            $0.name.lowercased() == "x-amz-content-sha256"
                && $0.value.trimmingCharacters(in: .whitespaces) == "UNSIGNED-PAYLOAD"
        }
        if signed.payload != .empty && !unsignedPayload && !message.isEmpty {
            // The body ends the file: change its last byte and read the message again.
            var changed = message
            changed[changed.count - 1] &+= 1
            changes.append((label: "body", request: try Self.parse(changed, file: file)))
        }
        return changes
    }

    private static func parse(_ message: [UInt8], file: String) throws(CheckFailure) -> Request {
        do {
            return try Request(httpMessage: message)
        } catch {
            throw CheckFailure("cannot read the request in \(file): \(error.detail)")
        }
    }
}

extension String {
    /// The string with its last character replaced by the next Unicode scalar, or `/` by `x`.
    fileprivate func changingLastCharacter() -> String {
        guard let last = unicodeScalars.last else { return "x" }
        let replacement: Unicode.Scalar = last == "/" ? "x" : Unicode.Scalar(last.value + 1) ?? "x"
        var scalars = String.UnicodeScalarView(unicodeScalars.dropLast())
        scalars.append(replacement)
        return String(scalars)
    }

    /// The string with its last character, a hex digit, replaced by another hex digit.
    fileprivate func changingLastHexDigit() -> String {
        guard let last else { return self }
        return String(dropLast()) + (last == "0" ? "1" : "0")
    }

    /// An `X-Amz-Date` (alone or as `X-Amz-Date=…`) moved by one second, still a valid date.
    fileprivate func changingSecondsDigit() -> String {
        var characters = Array(self)
        guard characters.count >= 2 else { return self + "0" }
        let index = characters.count - 2  // the units of the seconds, before `Z`
        characters[index] = characters[index] == "0" ? "1" : "0"
        return String(characters)
    }

    /// The text after `marker` up to the next comma, trimmed; `nil` when `marker` is absent.
    fileprivate func component(after marker: String) -> String? {
        guard let range = range(of: marker) else { return nil }
        return String(self[range.upperBound...].prefix { $0 != "," }).trimmingCharacters(in: .whitespaces)
    }
}
