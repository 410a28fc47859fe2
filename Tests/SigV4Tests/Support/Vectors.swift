import Foundation
import SealedTesting
import SigV4
import Testing

/// One case of the AWS SigV4 test suite in `vectors/sigv4/`, read in place.
///
/// CRT-layout cases are folders with `context.json`, `request.txt` and the expected `header-*` and `query-*`
/// files. The two classic-layout cases under `classic-extra/` have `<name>.req`, `.creq`, `.sts`, `.authz` and
/// `.sreq`, header signing only, with the fixed inputs of the suite's README.
struct VectorCase: Sendable, CustomTestStringConvertible {
    /// The case's path under `vectors/sigv4/`, such as `get-vanilla` or `classic-extra/get-special-character`.
    let name: String
    let directory: URL
    let context: Context

    var testDescription: String { name }

    var isClassic: Bool { name.hasPrefix("classic-extra/") }

    private var baseName: String { String(name.split(separator: "/").last!) }

    /// The suite's fixed inputs: credentials, scope, time.
    struct Context: Decodable, Sendable {
        struct Credentials: Decodable, Sendable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: Credentials
        var expiration_in_seconds: Int
        var normalize: Bool
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
        var omit_session_token: Bool?
        var signed_body_value: String?

        /// The README's "fixed signing inputs", for the classic cases that have no `context.json`.
        static let fixed = Context(
            credentials: Credentials(
                access_key_id: "AKIDEXAMPLE",
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token: nil
            ),
            expiration_in_seconds: 3600,
            normalize: true,
            region: "us-east-1",
            service: "service",
            sign_body: false,
            timestamp: "2015-08-30T12:36:00Z",
            omit_session_token: nil,
            signed_body_value: nil
        )

        var date: Date {
            get throws {
                let formatter = ISO8601DateFormatter()
                return try #require(formatter.date(from: timestamp), "bad timestamp \(timestamp)")
            }
        }

        var sigV4Credentials: SigV4.Credentials {
            SigV4.Credentials(
                accessKeyId: credentials.access_key_id,
                secretAccessKey: credentials.secret_access_key,
                sessionToken: credentials.token
            )
        }

        var pathCanonicalization: PathCanonicalization { normalize ? .normalized : .unnormalized }

        /// `signed_body_value` as a payload (`UNSIGNED-PAYLOAD` is the only one in the suite), `nil` to hash the body.
        var signedBodyValue: Payload? { signed_body_value == "UNSIGNED-PAYLOAD" ? .unsigned : nil }

        var signerOptions: Signer.Options {
            Signer.Options(
                pathCanonicalization: pathCanonicalization,
                addsPayloadHashHeader: sign_body,
                signsSessionToken: !(omit_session_token ?? false)
            )
        }
    }

    // MARK: Finding the cases

    /// The folder of the suite, `nil` when it is missing on a local run (``TestEnvironment`` prints a note).
    static func root() throws -> URL? {
        try TestEnvironment.vectors("sigv4")
    }

    /// Every case: the CRT-layout folders, then the classic-layout ones, each sorted by name.
    static func all() throws -> [VectorCase] {
        guard let root = try root() else { return [] }
        let fileManager = FileManager.default
        var cases: [VectorCase] = []
        for entry in try fileManager.contentsOfDirectory(atPath: root.path).sorted() {
            let folder = root.appendingPathComponent(entry, isDirectory: true)
            let contextFile = folder.appendingPathComponent("context.json")
            guard fileManager.fileExists(atPath: contextFile.path) else { continue }
            let context = try JSONDecoder().decode(Context.self, from: Data(contentsOf: contextFile))
            cases.append(VectorCase(name: entry, directory: folder, context: context))
        }
        let classic = root.appendingPathComponent("classic-extra", isDirectory: true)
        if fileManager.fileExists(atPath: classic.path) {
            for entry in try fileManager.contentsOfDirectory(atPath: classic.path).sorted() {
                let folder = classic.appendingPathComponent(entry, isDirectory: true)
                var isDirectory: ObjCBool = false
                guard fileManager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
                else { continue }
                cases.append(VectorCase(name: "classic-extra/\(entry)", directory: folder, context: .fixed))
            }
        }
        return cases
    }

    /// The cases that have query-signing (presigned URL) expectations: the CRT-layout ones.
    static func presigned() throws -> [VectorCase] {
        try all().filter { !$0.isClassic }
    }

    // MARK: Reading the files

    func bytes(_ file: String) throws -> [UInt8] {
        try Array(Data(contentsOf: directory.appendingPathComponent(file)))
    }

    func text(_ file: String) throws -> String {
        String(decoding: try bytes(file), as: UTF8.self)
    }

    /// `request.txt`, or `<name>.req` in the classic layout, as the signer sees it.
    ///
    /// - Parameter payload: The payload to sign instead of the SHA-256 of the body, such as ``Payload/unsigned``.
    func unsignedRequest(payload: Payload? = nil) throws -> Request {
        var request = try Request(httpMessage: bytes(isClassic ? "\(baseName).req" : "request.txt"))
        if let payload { request.payload = payload }
        return request
    }

    /// The signed request of a mode as the verifier sees it: `header-signed-request.txt` or
    /// `query-signed-request.txt`; `<name>.sreq`.
    func signedRequest(_ mode: Mode) throws -> Request {
        try Request(httpMessage: signedMessage(mode))
    }

    /// The bytes of the signed request's file, for changes to the body (the end of the file when there is one).
    func signedMessage(_ mode: Mode) throws -> [UInt8] {
        try bytes(isClassic ? "\(baseName).sreq" : "\(mode.rawValue)-signed-request.txt")
    }

    func canonicalRequest(_ mode: Mode) throws -> String {
        try text(isClassic ? "\(baseName).creq" : "\(mode.rawValue)-canonical-request.txt")
    }

    func stringToSign(_ mode: Mode) throws -> String {
        try text(isClassic ? "\(baseName).sts" : "\(mode.rawValue)-string-to-sign.txt")
    }

    /// The expected signature: `<mode>-signature.txt`, or the `Signature=` of `<name>.authz`.
    func signature(_ mode: Mode) throws -> String {
        if isClassic {
            let authorization = try self.authorization()
            let range = try #require(authorization.range(of: "Signature="))
            return String(authorization[range.upperBound...])
        }
        return try text("\(mode.rawValue)-signature.txt")
    }

    /// The expected `Authorization` value: `<name>.authz`, or the header of `header-signed-request.txt`.
    func authorization() throws -> String {
        if isClassic { return try text("\(baseName).authz").trimmingCharacters(in: .newlines) }
        let signed = try signedRequest(.header)
        return try #require(signed.headers.last { $0.name.lowercased() == "authorization" }?.value)
    }

    enum Mode: String, Sendable {
        case header
        case query
    }
}

/// The header set of a request as a sorted list of (lower-cased name, trimmed value), for order-free comparison.
func normalizedHeaderSet(_ headers: [(name: String, value: String)]) -> [String] {
    headers.map { "\($0.name.lowercased()):\($0.value.trimmingCharacters(in: .whitespaces))" }.sorted()
}

/// `headers` with each of `replacements` set: earlier headers of the same name (any case) are removed.
func applying(
    _ replacements: [(name: String, value: String)],
    to headers: [(name: String, value: String)]
) -> [(name: String, value: String)] {
    let names = Set(replacements.map { $0.name.lowercased() })
    return headers.filter { !names.contains($0.name.lowercased()) } + replacements
}

/// The `&`-separated components of a raw query, sorted, for order-free comparison.
func sortedQueryComponents(_ query: String) -> [String] {
    query.split(separator: "&").map(String.init).sorted()
}
