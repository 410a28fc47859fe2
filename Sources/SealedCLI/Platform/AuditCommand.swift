internal import ArgumentParser
internal import AuditTrail
internal import Crypto
internal import Foundation
internal import KMS
internal import PlatformClient
internal import SealedEvents
internal import SealedSupport
internal import Storage
internal import WireShapes

/// `sealed audit`: read, export and verify the tamper-evident audit trail.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, export and verify the audit trail (every key use and every decision).",
        discussion: """
            Records are shaped like CloudTrail records and chained by SHA-256; the server signs a digest of \
            the chain head every minute when there was activity and at shutdown. `verify` needs nothing but an \
            export and the audit public key, pinned outside the data directory (a copy of \
            DIR/audit-public-key.pem, or GET /v1/audit/public-key, kept where the server cannot write). Reading \
            the trail needs the audit:Read permission.
            """,
        subcommands: [Tail.self, Query.self, Export.self, Verify.self]
    )

    static func line(_ record: RecordLine) -> String {
        let who = record.userIdentity?.arn ?? "unknown(\(cell(record.userIdentity?.accessKeyId)))"
        var text = "\(cell(record.sequenceNumber))  \(cell(record.eventTime))  \(cell(record.eventName))  \(who)"
        if let eventType = record.requestParameters?.encryptionContext?.eventType { text += "  eventType=\(eventType)" }
        if let errorCode = record.errorCode { text += "  error=\(errorCode)" }
        if record.additionalEventData?.auditPhase == "Intent" { text += "  (intent: recorded before the change)" }
        return text
    }

    /// What a line of `tail` and `query` shows of a record (`GET /v1/audit` answers CloudTrail-shaped records);
    /// members of another type than a line expects are left out.
    struct RecordLine: Decodable {
        struct Identity: Decodable {
            @Lenient var arn: String?
            @Lenient var accessKeyId: String?
        }
        struct Parameters: Decodable {
            struct Context: Decodable { @Lenient var eventType: String? }
            @Lenient var encryptionContext: Context?
        }
        struct EventData: Decodable { @Lenient var auditPhase: String? }

        @Lenient var sequenceNumber: Int64?
        @Lenient var eventTime: String?
        @Lenient var eventName: String?
        @Lenient var userIdentity: Identity?
        @Lenient var requestParameters: Parameters?
        @Lenient var errorCode: String?
        @Lenient var additionalEventData: EventData?
    }

    /// `{"Records": [...]}`.
    struct RecordPage: Decodable {
        var records: [RecordLine]
        enum CodingKeys: String, CodingKey { case records = "Records" }
    }

    /// How many records and digests an export holds (`{"Records": [...], "Digests": [...]}`).
    struct ExportCounts: Decodable {
        /// Any JSON value, skipped.
        struct Item: Decodable {
            init(from decoder: any Decoder) throws {}
        }
        var records: [Item]?
        var digests: [Item]?

        enum CodingKeys: String, CodingKey {
            case records = "Records"
            case digests = "Digests"
        }
    }

    /// What `export` prints.
    struct Written: Encodable {
        var file: String
        var records: Int
        var digests: Int

        enum CodingKeys: String, CodingKey {
            case file = "File"
            case records = "Records"
            case digests = "Digests"
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tail", abstract: "Print the newest records.")
        @Option(help: "How many records.") var count = 20
        @Flag(help: "Keep printing new records as they are written.") var follow = false
        @OptionGroup var options: PlatformOptions

        /// Up to 1000 records after a sequence number: what each line shows, and each record's exact JSON.
        func page(after: Int64) async throws -> [(line: RecordLine, json: Data)] {
            let answer = try await options.raw(.lookupEvents, query: [("after", "\(after)"), ("limit", "1000")])
            guard case .object(let object) = try SealedEvents.JSONValue(parsing: Array(answer)),
                case .array(let records)? = object["Records"]
            else { throw CLIError("the audit trail answered something other than records") }
            return try records.map { record in
                let json = Data(record.serialized())
                return (try JSONDecoder().decode(RecordLine.self, from: json), json)
            }
        }

        func run() async throws {
            try await CLIError.reporting {
                // The newest `count`: walk forward to the end, keeping the last page.
                var after: Int64 = 0
                var window: [(line: RecordLine, json: Data)] = []
                while true {
                    let records = try await page(after: after)
                    guard let last = records.last else { break }
                    window = Array((window + records).suffix(count))
                    after = last.line.sequenceNumber ?? after
                    if records.count < 1000 { break }
                }
                let json = Data(#"{"Records":["#.utf8) + Data(window.map(\.json).joined(separator: Data(",".utf8)))
                try options.emit(PlatformAnswer(output: window.map(\.line), json: json + Data("]}".utf8))) {
                    $0.map(AuditCommand.line)
                }
                while follow {
                    try await Task.sleep(for: .seconds(1))
                    for record in try await page(after: after) {
                        after = record.line.sequenceNumber ?? after
                        let answer = PlatformAnswer(output: record.line, json: record.json)
                        try options.emit(answer) { [AuditCommand.line($0)] }
                    }
                }
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "query", abstract: "Find records.")
        @Option(
            help:
                "A key id, key ARN, alias name or alias ARN the record names (a key's id and its ARN find the same records)."
        )
        var key: String?
        @Option(help: "A principal ARN (a user, a role, or a role session).") var principal: String?
        @Option(name: .customLong("event-type"), help: "The event type in the encryption context.") var eventType:
            String?
        @Option(name: .customLong("event-name"), help: "The operation (Decrypt, AssumeRole, ApproveAccessRequest…).")
        var eventName: String?
        @Option(help: "From this time (ISO 8601).") var since: String?
        @Option(help: "Until this time (ISO 8601).") var until: String?
        @Flag(name: .customLong("errors-only"), help: "Only refused or failed calls.") var errorsOnly = false
        @Option(help: "At most this many records.") var limit = 100
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                var query: [(String, String)] = [("limit", "\(limit)")]
                for (name, value) in [
                    ("key", key), ("principal", principal), ("eventType", eventType), ("eventName", eventName),
                    ("since", since), ("until", until),
                ] {
                    if let value { query.append((name, value)) }
                }
                if errorsOnly { query.append(("errorsOnly", "true")) }
                let answer = try await options.send(.lookupEvents, query: query, as: RecordPage.self)
                try options.emit(answer) { answer in answer.records.map(AuditCommand.line) }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write a CloudTrail-style export ({\"Records\": […]} with the digests) to a file.",
            discussion: "Verify it anywhere with: sealed audit verify --file PATH --public-key audit-public-key.pem"
        )
        @Option(help: "The file to write.") var file: String
        @Option(help: "Only records from this time on (ISO 8601).") var since: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let client = try options.client()
                let url = URL(fileURLWithPath: file)
                // Streamed to a staged file as it arrives (an export has no size limit), renamed into place once
                // whole; a failed export leaves nothing under the final name.
                do {
                    let staged = try DurableFile(for: url, mode: 0o600)
                    try await client.download(.exportEvents, query: since.map { [("since", $0)] } ?? []) {
                        try staged.write($0)
                    }
                    try staged.commit()
                } catch let error as FileSystemError {
                    throw CLIError("cannot write \(url.path): \(error.reason)")
                }
                let data = try Data(contentsOf: url, options: .alwaysMapped)
                let counts = try? JSONDecoder().decode(ExportCounts.self, from: data)
                let written = Written(
                    file: url.path,
                    records: counts?.records?.count ?? 0,
                    digests: counts?.digests?.count ?? 0
                )
                try options.emit(written) {
                    ["wrote \($0.records) records and \($0.digests) digests to \($0.file)"]
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the chain and the signed digests of the live store or of an export.",
            discussion: """
                Exits 0 when every record and digest checks out; otherwise exits 1 naming the first bad record \
                and what is wrong with it (changed, removed, inserted, reordered, the tail cut after a digest, \
                an export whose start no digest vouches for, or records older than --max-unsigned-age that no \
                digest covers). Newer records after the newest digest are reported as not yet signed.

                Pin the public key: --public-key PATH names a copy kept outside the data directory. With \
                --data-dir and no --public-key, the key is read from DIR/audit-public-key.pem, which whoever can \
                rewrite the store can also replace: the result says UNPINNED, and --strict makes that an error.
                """
        )
        @Option(name: .customLong("data-dir"), help: "The server's data directory (its live store).") var dataDirectory:
            String?
        @Option(help: "An export file.") var file: String?
        @Option(
            name: .customLong("public-key"),
            help: "The audit public key (PEM), pinned outside the data directory; required for --file."
        )
        var publicKey: String?
        @Flag(help: "Fail when the public key is not pinned (--data-dir without --public-key).") var strict = false
        @Option(
            name: .customLong("max-unsigned-age"),
            help: "Seconds a record may wait for a digest (live store: before now; export: before its newest record)."
        )
        var maxUnsignedAge: Double = Verifier.UnsignedLimit.defaultMaximumAge

        func validate() throws {
            guard (dataDirectory == nil) != (file == nil) else {
                throw ValidationError("give either --data-dir DIR [--public-key PATH] or --file PATH --public-key PATH")
            }
            if file != nil, publicKey == nil { throw ValidationError("--file needs --public-key PATH") }
            guard maxUnsignedAge.isFinite, maxUnsignedAge >= 0 else {
                throw ValidationError("--max-unsigned-age must be a number of seconds, 0 or more")
            }
        }

        func run() async throws {
            try await CLIError.reporting {
                let report: VerificationReport
                var unpinned = false
                let pinned = try publicKey.map { path in
                    try AuditSigningKey.publicKey(pem: String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8))
                }
                if let dataDirectory {
                    let directory = URL(fileURLWithPath: dataDirectory)
                    let key: P256.Signing.PublicKey
                    if let pinned {
                        key = pinned
                    } else {
                        unpinned = true
                        let pem = try String(
                            contentsOf: directory.appendingPathComponent(DataDirectory.auditPublicKeyFileName),
                            encoding: .utf8
                        )
                        key = try AuditSigningKey.publicKey(pem: pem)
                    }
                    let anchor = try FileDigestAnchor(
                        url: directory.appendingPathComponent(DataDirectory.auditHeadFileName)
                    ).load()
                    let limit = Verifier.UnsignedLimit(maximumAge: maxUnsignedAge, reference: Date())
                    let log = directory.appendingPathComponent(DataDirectory.auditLogDirectoryName)
                    if FileManager.default.fileExists(atPath: log.path) {
                        // Read-only: safe beside a running server.
                        report = try LogAuditStore.verify(
                            directory: log,
                            publicKey: key,
                            anchor: anchor,
                            unsignedLimit: limit
                        )
                    } else {
                        // A trail not yet moved to the log (the server moves it at its next start).
                        let store = try SQLiteAuditStore(
                            at: directory.appendingPathComponent(DataDirectory.auditDatabaseFileName)
                        )
                        defer { try? store.close() }
                        report = try await store.verify(publicKey: key, anchor: anchor, unsignedLimit: limit)
                    }
                } else if let file, let pinned {
                    report = try AuditTrail.Export.verify(
                        fileAt: URL(fileURLWithPath: file),
                        publicKey: pinned,
                        unsignedLimit: Verifier.UnsignedLimit(maximumAge: maxUnsignedAge, reference: nil)
                    )
                } else {
                    return
                }
                guard report.isValid else { throw CLIError("audit trail does not verify: \(report)") }
                let warning =
                    "UNPINNED: the public key was read from the data directory, which an attacker who rewrites the "
                    + "trail can replace; pass --public-key with a copy kept elsewhere"
                if unpinned, strict { throw CLIError("\(warning) (--strict)") }
                if unpinned { FileHandle.standardError.write(Data("sealed audit verify: \(warning)\n".utf8)) }
                print(unpinned ? "\(report) (UNPINNED public key)" : "\(report)")
            }
        }
    }
}

/// A member decoded when it has the expected type and `nil` otherwise (absent, `null` or another type), as a reader of
/// records whose members vary by service reads them.
@propertyWrapper
struct Lenient<Value: Decodable>: Decodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws { wrappedValue = try? Value(from: decoder) }
}

extension KeyedDecodingContainer {
    /// An absent member is `nil` rather than an error.
    func decode<Value>(_ type: Lenient<Value>.Type, forKey key: Key) throws -> Lenient<Value> {
        try decodeIfPresent(type, forKey: key) ?? Lenient(wrappedValue: nil)
    }
}
