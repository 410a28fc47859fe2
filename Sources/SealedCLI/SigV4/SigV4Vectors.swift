public import Foundation
internal import SealedSupport
internal import SigV4

/// Runs cases of the AWS SigV4 test suite through the ``SigV4`` signer and verifier.
///
/// Two layouts are read (see `vectors/sigv4/README.md`):
///
/// - CRT layout (aws-c-auth): a folder with `context.json`, `request.txt` and the expected `header-*` files, plus
///   `query-*` files when the case also covers presigned URLs.
/// - Classic layout (the original suite, as botocore keeps it): `NAME.req`, `.creq`, `.sts`, `.authz` and `.sreq`,
///   usually in a folder `NAME`; header signing only, signed with the suite's fixed inputs. Every `.req` of a
///   folder is a case.
///
/// Each case runs a fixed list of checks per mode (header mode, then query mode when the case has `query-*` files),
/// and each check is one ``Outcome``:
///
/// - `canonical request`, `string to sign`, `signature`: the signer's output equals the expected file byte for byte.
/// - `authorization` (header mode only): the `Authorization` value equals the signed request's (or `.authz`).
/// - `signed request`: the unsigned request with the signer's headers (or query) is the signed request, order aside.
/// - `verify`: the verifier accepts the signed request and names the case's key, scope and time.
/// - `one-byte changes`: a one-byte change to any signed part (method, path, query, a signed header value,
///   `X-Amz-Date`, the credential scope, the signature, a hashed body) is rejected.
/// - `benign changes`: upper-cased header names and whitespace added inside header values still verify.
///
/// One exception comes from the suite: a presigned URL whose session token was appended after signing
/// (`omit_session_token` with a token, the case `post-sts-header-after`) must be rejected with
/// `signatureMismatch`, which passes its `query/verify` check; its two change checks are not run. Neither are they
/// when `verify` fails.
public enum SigV4Vectors {
    /// The result of one check of one case.
    public struct Outcome: Sendable {
        /// The case's folder relative to the folder that was run, such as `get-vanilla` or
        /// `classic-extra/get-special-character`; the folder's own name when a single case was run.
        public let testCase: String
        /// The mode and the check, such as `header/signature` or `query/one-byte changes`.
        public let check: String
        public let passed: Bool
        /// Why it failed, on one line; for a pass, a note or empty.
        public let detail: String

        /// `case check`, as the failure lines print it.
        public var name: String { "\(testCase) \(check)" }
    }

    /// A folder that cannot be run at all: missing, not a folder, or holding no case.
    public struct VectorError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Runs every case under `url`: a case folder, or a folder searched recursively for case folders.
    ///
    /// - Parameter url: The folder.
    /// - Returns: The outcomes, case by case in path order, header mode before query mode.
    /// - Throws: ``VectorError`` when `url` is not a folder or holds no case. A case whose files cannot be read
    ///   gives failed outcomes instead.
    public static func run(_ url: URL) async throws(VectorError) -> [Outcome] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw VectorError(description: "no such file or folder: \(url.path)")
        }
        guard isDirectory.boolValue else {
            throw VectorError(description: "\(url.path) is not a folder of SigV4 test cases")
        }
        let cases = try findCases(in: url, name: nil)
        guard !cases.isEmpty else {
            throw VectorError(description: "no SigV4 test case under \(url.path)")
        }
        var outcomes: [Outcome] = []
        for testCase in cases {
            outcomes += await testCase.run()
        }
        return outcomes
    }

    // MARK: Finding the cases

    /// The cases at or below `folder`, named by their path relative to the folder first given.
    private static func findCases(in folder: URL, name: String?) throws(VectorError) -> [Case] {
        let fileManager = FileManager.default
        let folderName = folder.lastPathComponent
        if fileManager.fileExists(atPath: folder.appendingPathComponent("context.json").path) {
            return [Case(name: name ?? folderName, folder: folder, layout: .crt)]
        }
        let entries: [String]
        do {
            entries = try fileManager.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw VectorError(description: "cannot list \(folder.path): \(error.localizedDescription)")
        }
        // Classic layout: one case per `NAME.req`, usually alone in a folder of the same name.
        let classic = entries.filter { $0.hasSuffix(".req") && !$0.hasPrefix(".") }.map { String($0.dropLast(4)) }
        if !classic.isEmpty {
            let folderCase = name ?? folderName
            return classic.map { baseName in
                Case(
                    name: baseName == folderName ? folderCase : "\(folderCase)/\(baseName)",
                    folder: folder,
                    layout: .classic(baseName: baseName)
                )
            }
        }
        var cases: [Case] = []
        for entry in entries where !entry.hasPrefix(".") {
            let child = folder.appendingPathComponent(entry, isDirectory: true)
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            cases += try findCases(in: child, name: name.map { "\($0)/\(entry)" } ?? entry)
        }
        return cases
    }
}

// MARK: - One case

extension SigV4Vectors {
    fileprivate enum Layout {
        case crt
        case classic(baseName: String)
    }

    fileprivate enum Mode: String {
        case header
        case query
    }

    /// A failed check: one line saying why.
    fileprivate struct CheckFailure: Error {
        let detail: String
        init(_ detail: String) { self.detail = detail }
    }

    fileprivate struct Case {
        let name: String
        let folder: URL
        let layout: Layout

        var isClassic: Bool {
            if case .classic = layout { return true }
            return false
        }

        func run() async -> [Outcome] {
            var recorder = Recorder(testCase: name)
            let context: Context
            do throws(CheckFailure) {
                context = try loadContext()
            } catch {
                recorder.record("context", .failure(error))
                return recorder.outcomes
            }
            await runSigner(.header, context: context, recorder: &recorder)
            await runVerifier(.header, context: context, recorder: &recorder)
            if hasQueryFiles {
                await runSigner(.query, context: context, recorder: &recorder)
                await runVerifier(.query, context: context, recorder: &recorder)
            }
            return recorder.outcomes
        }

        // MARK: Files

        private var hasQueryFiles: Bool {
            guard !isClassic, let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
                return false
            }
            return entries.contains { $0.hasPrefix("query-") }
        }

        /// `request.txt`, or `NAME.req`.
        private var unsignedFile: String {
            switch layout {
            case .crt: "request.txt"
            case .classic(let baseName): "\(baseName).req"
            }
        }

        /// `<mode>-<suffix>`, or `NAME.<classicExtension>`.
        private func file(_ mode: Mode, _ suffix: String, classic classicExtension: String) -> String {
            switch layout {
            case .crt: "\(mode.rawValue)-\(suffix)"
            case .classic(let baseName): "\(baseName).\(classicExtension)"
            }
        }

        private func bytes(_ file: String) throws(CheckFailure) -> [UInt8] {
            do {
                return Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            } catch {
                throw CheckFailure("cannot read \(file): \(error.localizedDescription)")
            }
        }

        private func text(_ file: String) throws(CheckFailure) -> String {
            String(decoding: try bytes(file), as: UTF8.self)
        }

        private func request(_ file: String) throws(CheckFailure) -> Request {
            try request(file, from: bytes(file))
        }

        private func request(_ file: String, from bytes: [UInt8]) throws(CheckFailure) -> Request {
            do {
                return try Request(httpMessage: bytes)
            } catch {
                throw CheckFailure("cannot read the request in \(file): \(error.detail)")
            }
        }

        private func loadContext() throws(CheckFailure) -> Context {
            guard case .crt = layout else { return .fixed }
            let context: Context
            do {
                context = try JSONDecoder().decode(Context.self, from: Data(bytes("context.json")))
            } catch let error as CheckFailure {
                throw error
            } catch {
                throw CheckFailure("context.json is not a SigV4 test context: \(String(describing: error))")
            }
            _ = try context.date
            return context
        }

        // MARK: Signer

        private func runSigner(_ mode: Mode, context: Context, recorder: inout Recorder) async {
            let prefix = mode.rawValue + "/"
            let prepared:
                (unsigned: Request, canonical: String, stringToSign: String, signature: String, signed: Request)
            do throws(CheckFailure) {
                let signedFile = file(mode, "signed-request.txt", classic: "sreq")
                prepared = (
                    try request(unsignedFile),
                    try text(file(mode, "canonical-request.txt", classic: "creq")),
                    try text(file(mode, "string-to-sign.txt", classic: "sts")),
                    try expectedSignature(mode),
                    try request(signedFile)
                )
            } catch {
                recorder.record(prefix + "sign", .failure(error))
                return
            }
            let (unsigned, expectedCanonical, expectedStringToSign, expectedSignature, expectedSigned) = prepared

            let date: Date
            let payload: Payload?
            do throws(CheckFailure) {
                date = try context.date
                payload = try context.signedBodyPayload
            } catch {
                recorder.record(prefix + "sign", .failure(error))
                return
            }
            let signer = Signer(options: context.signerOptions)
            let credentials = context.credentials.sigV4

            // The checks of both modes, recorded first.
            func compare(canonical: String, stringToSign: String, signature: String) async {
                await recorder.check(prefix + "canonical request") { () async throws(CheckFailure) in
                    try expectEqual(canonical, expectedCanonical)
                }
                await recorder.check(prefix + "string to sign") { () async throws(CheckFailure) in
                    try expectEqual(stringToSign, expectedStringToSign)
                }
                await recorder.check(prefix + "signature") { () async throws(CheckFailure) in
                    try expectEqual(signature, expectedSignature)
                }
            }

            switch mode {
            case .header:
                var request = unsigned
                if let payload { request.payload = payload }
                let result = signer.sign(
                    request,
                    credentials: credentials,
                    region: context.region,
                    service: context.service,
                    date: date
                )
                await compare(
                    canonical: result.canonicalRequest,
                    stringToSign: result.stringToSign,
                    signature: result.signature
                )
                await recorder.check(prefix + "authorization") { () async throws(CheckFailure) in
                    try expectEqual(result.authorization, try expectedAuthorization(signed: expectedSigned))
                }
                await recorder.check(prefix + "signed request") { () async throws(CheckFailure) in
                    try expectSameHeaders(applying(result.headers, to: unsigned.headers), expectedSigned.headers)
                    try expectEqual(
                        "\(unsigned.method) \(unsigned.path)?\(unsigned.query)",
                        "\(expectedSigned.method) \(expectedSigned.path)?\(expectedSigned.query)",
                        what: "request line"
                    )
                }
            case .query:
                var request = unsigned
                if let value = context.signedBodyValue, let payload {
                    // The retired `post-unsigned-payload` case signs its payload header in query mode too.
                    request.headers.append((name: "x-amz-content-sha256", value: value))
                    request.payload = payload
                }
                let lifetime: Int
                do throws(CheckFailure) {
                    lifetime = try context.presignedLifetime
                } catch {
                    recorder.record(prefix + "sign", .failure(error))
                    return
                }
                let result = signer.presign(
                    request,
                    credentials: credentials,
                    region: context.region,
                    service: context.service,
                    date: date,
                    expires: .seconds(lifetime)
                )
                await compare(
                    canonical: result.canonicalRequest,
                    stringToSign: result.stringToSign,
                    signature: result.signature
                )
                await recorder.check(prefix + "signed request") { () async throws(CheckFailure) in
                    try expectSame(
                        sortedQueryComponents(result.query),
                        sortedQueryComponents(expectedSigned.query),
                        what: "query parameters"
                    )
                    try expectSameHeaders(request.headers, expectedSigned.headers)
                    try expectEqual(unsigned.path, expectedSigned.path, what: "path")
                    let expiration = date.addingTimeInterval(TimeInterval(lifetime))
                    guard result.expiration == expiration else {
                        throw CheckFailure("expires at \(result.expiration), expected \(expiration)")
                    }
                }
            }
        }

        /// `<mode>-signature.txt`, or the `Signature=` of `NAME.authz`.
        private func expectedSignature(_ mode: Mode) throws(CheckFailure) -> String {
            switch layout {
            case .crt:
                return try text("\(mode.rawValue)-signature.txt").trimmingCharacters(in: .whitespacesAndNewlines)
            case .classic(let baseName):
                let authorization = try text("\(baseName).authz")
                guard let range = authorization.range(of: "Signature=") else {
                    throw CheckFailure("\(baseName).authz has no Signature=")
                }
                return String(authorization[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }

        /// `NAME.authz`, or the `Authorization` header of `header-signed-request.txt`.
        private func expectedAuthorization(signed: Request) throws(CheckFailure) -> String {
            switch layout {
            case .crt:
                guard let header = signed.headers.last(where: { $0.name.lowercased() == "authorization" }) else {
                    throw CheckFailure("header-signed-request.txt has no Authorization header")
                }
                return header.value.trimmingCharacters(in: .whitespaces)
            case .classic(let baseName):
                return try text("\(baseName).authz").trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }

        // MARK: Verifier

        private func runVerifier(_ mode: Mode, context: Context, recorder: inout Recorder) async {
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
}

// MARK: - Context

extension SigV4Vectors {
    /// `context.json` of a CRT-layout case, or the suite's fixed inputs for a classic-layout one.
    fileprivate struct Context: Decodable {
        struct Credentials: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var token: String?

            enum CodingKeys: String, CodingKey {
                case accessKeyId = "access_key_id"
                case secretAccessKey = "secret_access_key"
                case token
            }

            var sigV4: SigV4.Credentials {
                SigV4.Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: token)
            }
        }

        var credentials: Credentials
        var region: String
        var service: String
        var timestamp: String
        var normalize: Bool
        var signBody: Bool
        var expirationInSeconds: Int?
        var omitSessionToken: Bool?
        var signedBodyValue: String?

        enum CodingKeys: String, CodingKey {
            case credentials, region, service, timestamp, normalize
            case signBody = "sign_body"
            case expirationInSeconds = "expiration_in_seconds"
            case omitSessionToken = "omit_session_token"
            case signedBodyValue = "signed_body_value"
        }

        /// The suite README's fixed signing inputs, with `normalize` on, for classic-layout cases.
        static let fixed = Context(
            credentials: Credentials(
                accessKeyId: "AKIDEXAMPLE",
                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token: nil
            ),
            region: "us-east-1",
            service: "service",
            timestamp: "2015-08-30T12:36:00Z",
            normalize: true,
            signBody: false,
            expirationInSeconds: 3600,
            omitSessionToken: nil,
            signedBodyValue: nil
        )

        /// The signing time; SigV4 dates have four-digit years.
        var date: Date {
            get throws(CheckFailure) {
                guard let date = ISO8601.parse(timestamp),
                    (-62_167_219_200...253_402_300_799).contains(date.timeIntervalSince1970)
                else { throw CheckFailure("context.json: timestamp \"\(timestamp)\" is not an ISO 8601 UTC time") }
                return date
            }
        }

        /// `date/region/service/aws4_request` for the signing time.
        var scope: String {
            get throws(CheckFailure) {
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
                let day = calendar.dateComponents([.year, .month, .day], from: try date)
                let stamp = String(format: "%04d%02d%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
                return "\(stamp)/\(region)/\(service)/aws4_request"
            }
        }

        /// `expiration_in_seconds`, which query mode needs, within SigV4's 1 second to 7 days.
        var presignedLifetime: Int {
            get throws(CheckFailure) {
                guard let expirationInSeconds else {
                    throw CheckFailure("context.json has no expiration_in_seconds for query signing")
                }
                guard (1...604_800).contains(expirationInSeconds) else {
                    throw CheckFailure(
                        "context.json: expiration_in_seconds \(expirationInSeconds) is not 1 s to 7 days"
                    )
                }
                return expirationInSeconds
            }
        }

        /// `signed_body_value` as a payload: `UNSIGNED-PAYLOAD` or a hex SHA-256; `nil` to hash the body.
        var signedBodyPayload: Payload? {
            get throws(CheckFailure) {
                guard let signedBodyValue else { return nil }
                if signedBodyValue == Payload.unsigned.value { return .unsigned }
                guard let payload = Payload.sha256(hex: signedBodyValue) else {
                    throw CheckFailure("context.json: signed_body_value \"\(signedBodyValue)\" is not supported")
                }
                return payload
            }
        }

        /// Whether the session token is added after signing, so a presigned URL carrying it cannot verify.
        var tokenAddedAfterSigning: Bool { omitSessionToken == true && credentials.token != nil }

        var pathCanonicalization: PathCanonicalization { normalize ? .normalized : .unnormalized }

        var signerOptions: Signer.Options {
            Signer.Options(
                pathCanonicalization: pathCanonicalization,
                addsPayloadHashHeader: signBody,
                signsSessionToken: omitSessionToken != true
            )
        }

        /// A verifier that knows this case's key only, with its clock at the signing time.
        func verifier(now: Date) -> Verifier {
            let accessKeyId = credentials.accessKeyId
            let secret = Verifier.Secret(secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.token)
            return Verifier(
                region: region,
                services: [service],
                // `post-unsigned-payload` declares UNSIGNED-PAYLOAD; the other cases never do.
                options: Verifier.Options(pathCanonicalization: pathCanonicalization, allowsUnsignedPayload: true),
                now: { now },
                credentials: { $0 == accessKeyId ? secret : nil }
            )
        }
    }
}

// MARK: - Recording and comparing

extension SigV4Vectors {
    fileprivate enum CheckResult {
        case passed(String)
        case failure(CheckFailure)
    }

    fileprivate struct Recorder {
        let testCase: String
        var outcomes: [Outcome] = []

        mutating func record(_ check: String, _ result: CheckResult) {
            switch result {
            case .passed(let note):
                outcomes.append(Outcome(testCase: testCase, check: check, passed: true, detail: note))
            case .failure(let failure):
                outcomes.append(Outcome(testCase: testCase, check: check, passed: false, detail: failure.detail))
            }
        }

        /// Runs one check and records its outcome.
        ///
        /// - Returns: Whether it passed.
        @discardableResult
        mutating func check(_ check: String, _ body: () async throws(CheckFailure) -> Void) async -> Bool {
            do {
                try await body()
                record(check, .passed(""))
                return true
            } catch {
                record(check, .failure(error))
                return false
            }
        }
    }
}

/// Fails unless the two strings are equal; the detail shows the first line where they differ.
private func expectEqual(_ actual: String, _ expected: String, what: String? = nil) throws(SigV4Vectors.CheckFailure) {
    guard actual != expected else { return }
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let prefix = what.map { "\($0): " } ?? ""
    if actualLines.count == 1 && expectedLines.count == 1 {
        throw SigV4Vectors.CheckFailure("\(prefix)got \(quoted(actual)), expected \(quoted(expected))")
    }
    let line =
        zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actualLines.count, expectedLines.count)
    let got = line < actualLines.count ? quoted(actualLines[line]) : "no line"
    let wanted = line < expectedLines.count ? quoted(expectedLines[line]) : "no line"
    throw SigV4Vectors.CheckFailure("\(prefix)line \(line + 1) differs: got \(got), expected \(wanted)")
}

/// Fails unless the two lists hold the same elements, order aside.
private func expectSame(_ actual: [String], _ expected: [String], what: String) throws(SigV4Vectors.CheckFailure) {
    guard actual.sorted() != expected.sorted() else { return }
    var missing = expected
    var extra: [String] = []
    for element in actual {
        if let index = missing.firstIndex(of: element) { missing.remove(at: index) } else { extra.append(element) }
    }
    throw SigV4Vectors.CheckFailure(
        "\(what) differ: missing \(missing.map(quoted).joined(separator: ", ")); "
            + "unexpected \(extra.map(quoted).joined(separator: ", "))"
    )
}

/// Fails unless the two header lists are the same set of (lower-cased name, trimmed value), order aside.
private func expectSameHeaders(
    _ actual: [(name: String, value: String)],
    _ expected: [(name: String, value: String)]
) throws(SigV4Vectors.CheckFailure) {
    func normalized(_ headers: [(name: String, value: String)]) -> [String] {
        headers.map { "\($0.name.lowercased()):\($0.value.trimmingCharacters(in: .whitespaces))" }
    }
    try expectSame(normalized(actual), normalized(expected), what: "headers")
}

/// `headers` with each of `replacements` set: earlier headers of the same name (any case) are removed.
private func applying(
    _ replacements: [(name: String, value: String)],
    to headers: [(name: String, value: String)]
) -> [(name: String, value: String)] {
    let names = Set(replacements.map { $0.name.lowercased() })
    return headers.filter { !names.contains($0.name.lowercased()) } + replacements
}

/// The `&`-separated components of a raw query.
private func sortedQueryComponents(_ query: String) -> [String] {
    query.split(separator: "&").map(String.init).sorted()
}

/// A string in quotes with its control characters escaped, so a failure stays on one line.
private func quoted(_ text: some StringProtocol) -> String {
    String(reflecting: String(text))
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
