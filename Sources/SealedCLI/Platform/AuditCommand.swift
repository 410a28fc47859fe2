internal import ArgumentParser
internal import AuditTrail
internal import Crypto
internal import Foundation
internal import KMS
internal import SealedSupport
internal import Storage

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

    static func line(_ record: [String: Any]) -> String {
        let identity = record["userIdentity"] as? [String: Any] ?? [:]
        let who = identity.string("arn") == "-" ? "unknown(\(identity.string("accessKeyId")))" : identity.string("arn")
        let context = (record["requestParameters"] as? [String: Any])?["encryptionContext"] as? [String: Any]
        let eventType = context?["eventType"] as? String
        var text =
            "\(record.string("sequenceNumber"))  \(record.string("eventTime"))  \(record.string("eventName"))  \(who)"
        if let eventType { text += "  eventType=\(eventType)" }
        if record["errorCode"] is String { text += "  error=\(record.string("errorCode"))" }
        if (record["additionalEventData"] as? [String: Any])?["auditPhase"] as? String == "Intent" {
            text += "  (intent: recorded before the change)"
        }
        return text
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tail", abstract: "Print the newest records.")
        @Option(help: "How many records.") var count = 20
        @Flag(help: "Keep printing new records as they are written.") var follow = false
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                // The newest `count`: walk forward to the end, keeping the last page.
                var after: Int64 = 0
                var window: [[String: Any]] = []
                while true {
                    let page = try await options.call(
                        "GET",
                        ["audit"],
                        query: [("after", "\(after)"), ("limit", "1000")]
                    )
                    let records = page.objects("Records")
                    guard let last = records.last else { break }
                    window = Array((window + records).suffix(count))
                    after = (last["sequenceNumber"] as? NSNumber)?.int64Value ?? after
                    if records.count < 1000 { break }
                }
                try options.emit(["Records": window]) { answer in answer.objects("Records").map(AuditCommand.line) }
                while follow {
                    try await Task.sleep(for: .seconds(1))
                    let page = try await options.call(
                        "GET",
                        ["audit"],
                        query: [("after", "\(after)"), ("limit", "1000")]
                    )
                    for record in page.objects("Records") {
                        after = (record["sequenceNumber"] as? NSNumber)?.int64Value ?? after
                        try options.emit(record) { [AuditCommand.line($0)] }
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
                let answer = try await options.call("GET", ["audit"], query: query)
                try options.emit(answer) { answer in answer.objects("Records").map(AuditCommand.line) }
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
                let data = try await client.raw("GET", ["audit", "export"], query: since.map { [("since", $0)] } ?? [])
                let url = URL(fileURLWithPath: file)
                try AuditCommand.writePrivately(data, to: url)
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
                try options.emit([
                    "File": url.path, "Records": object.objects("Records").count,
                    "Digests": object.objects("Digests").count,
                ]) {
                    [
                        "wrote \($0.string("Records")) records and \($0.string("Digests")) digests to \($0.string("File"))"
                    ]
                }
            }
        }
    }

    /// Writes `data` to `url` the way the server writes its files (`DurableFile`): staged in a new file beside it
    /// (`O_EXCL`, mode 0600), synced, then renamed over it, so nobody else can read the records at any moment and a
    /// failed write leaves nothing under the final name.
    static func writePrivately(_ data: Data, to url: URL) throws {
        do {
            try DurableFile.write(data, to: url, mode: 0o600)
        } catch let error as FileSystemError {
            throw CLIError("cannot write \(url.path): \(error.reason)")
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
                    let store = try SQLiteAuditStore(
                        at: directory.appendingPathComponent(DataDirectory.auditDatabaseFileName)
                    )
                    defer { try? store.close() }
                    report = try await store.verify(
                        publicKey: key,
                        anchor: anchor,
                        unsignedLimit: Verifier.UnsignedLimit(maximumAge: maxUnsignedAge, reference: Date())
                    )
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
