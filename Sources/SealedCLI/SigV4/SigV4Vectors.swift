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
    enum Layout {
        case crt
        case classic(baseName: String)
    }

    enum Mode: String {
        case header
        case query
    }

    /// A failed check: one line saying why.
    struct CheckFailure: Error {
        let detail: String
        init(_ detail: String) { self.detail = detail }
    }

    /// One case: its files, and the signer's and the verifier's checks (`SigV4Vectors+Signer.swift`,
    /// `SigV4Vectors+Verifier.swift`).
    struct Case {
        // The runner's types by their short names, for the extensions of `Case` in other files, which do not see
        // `SigV4Vectors`'s members.
        typealias Mode = SigV4Vectors.Mode
        typealias CheckFailure = SigV4Vectors.CheckFailure
        typealias Context = SigV4Vectors.Context
        typealias Recorder = SigV4Vectors.Recorder

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
        var unsignedFile: String {
            switch layout {
            case .crt: "request.txt"
            case .classic(let baseName): "\(baseName).req"
            }
        }

        /// `<mode>-<suffix>`, or `NAME.<classicExtension>`.
        func file(_ mode: Mode, _ suffix: String, classic classicExtension: String) -> String {
            switch layout {
            case .crt: "\(mode.rawValue)-\(suffix)"
            case .classic(let baseName): "\(baseName).\(classicExtension)"
            }
        }

        func bytes(_ file: String) throws(CheckFailure) -> [UInt8] {
            do {
                return Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            } catch {
                throw CheckFailure("cannot read \(file): \(error.localizedDescription)")
            }
        }

        func text(_ file: String) throws(CheckFailure) -> String {
            String(decoding: try bytes(file), as: UTF8.self)
        }

        func request(_ file: String) throws(CheckFailure) -> Request {
            try request(file, from: bytes(file))
        }

        func request(_ file: String, from bytes: [UInt8]) throws(CheckFailure) -> Request {
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
    }
}
