internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import WireShapes

/// `sealed subjects`: erase data subjects, show them, lift an erasure's fence.
struct SubjectsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subjects",
        abstract: "Erase data subjects (GDPR Art. 17 by crypto-shredding), show them, lift an erasure's fence.",
        discussion: """
            Events of an event type with a subject field are sealed under the subject's own branch key, one per \
            event type, named by a pseudonym (an HMAC of the subject id under a secret of the domain). Erasing a \
            subject destroys those keys: every event of the subject, stored, replayed or backed up, no longer opens. \
            Consumers that cached a branch key keep it for the keyring's cache TTL at most.

            The subject id goes to the server in the request body only, and is never printed, logged or audited: \
            answers and audit records carry the pseudonyms. Pass - as SUBJECT_ID to read it from standard input \
            (one line), keeping it out of the shell history and the process list.
            """,
        subcommands: [Erase.self, Show.self, LiftFence.self]
    )

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase",
            abstract: "Erase a subject: destroy its branch keys and fence it (the owning team or an administrator).",
            discussion: """
                Destroys every version of the subject's branch keys (and their beacon keys) in the keystore, then \
                fences the subject: sealing for it fails with SubjectErasedException until the owning team lifts \
                the fence. Without --domain, erases in every domain you may erase in (which must include every \
                domain where the subject has keys). Safe to repeat: a second erasure finishes what a failed one \
                left and repeats nothing. Prints a receipt per domain and the id of the audit record.
                """
        )
        @Argument(help: "The subject's id, as the events carry it in their subject field (- reads standard input).")
        var subjectID: String
        @Option(help: "Only this domain (default: every domain you may erase in).") var domain: String?
        @Option(help: "Why (kept in the audit trail and the fence; do not put the subject id or personal data in it).")
        var reason: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let subject = try SubjectsCommand.read(subjectID)
                let answer = try await options.send(
                    .eraseSubject,
                    input: EraseSubjectInput(subjectId: subject, domain: domain, reason: reason),
                    as: ErasureOutput.self
                )
                try options.emit(answer) { erasure in
                    table(
                        ["DOMAIN", "PSEUDONYM", "ERASED AT", "KEYS DESTROYED"],
                        erasure.receipts.map { [$0.domain, $0.pseudonym, cell($0.erasedAt), cell($0.keysDestroyed)] }
                    ) + ["audit record \(cell(erasure.auditRecordId))"]
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a subject: its pseudonym, its branch keys, whether it is erased and since when.",
            discussion: """
                Without --domain, shows the domains you may look at where the subject has keys or was erased; \
                with --domain, that domain whatever the subject's state.
                """
        )
        @Argument(help: "The subject's id (- reads standard input).") var subjectID: String
        @Option(help: "Only this domain.") var domain: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let subject = try SubjectsCommand.read(subjectID)
                let answer = try await options.send(
                    .describeSubject,
                    input: ShowSubjectInput(subjectId: subject, domain: domain),
                    as: SubjectList.self
                )
                try options.emit(answer) { list in
                    list.subjects.isEmpty
                        ? ["no keys and no erasure in the domains you may look at"]
                        : list.subjects.flatMap(SubjectsCommand.lines)
                }
            }
        }
    }

    struct LiftFence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lift-fence",
            abstract:
                "Let an erased subject's keys be created again in a domain (the owning team or an administrator).",
            discussion: """
                The keys destroyed by the erasure stay destroyed: the subject's old events do not open again. New \
                events of the subject get new keys.
                """
        )
        @Argument(help: "The subject's id (- reads standard input).") var subjectID: String
        @Option(help: "The domain whose fence to lift.") var domain: String
        @Option(help: "Why (kept in the audit trail and the fence).") var reason: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let subject = try SubjectsCommand.read(subjectID)
                let answer = try await options.send(
                    .liftSubjectFence,
                    input: LiftSubjectFenceInput(subjectId: subject, domain: domain, reason: reason),
                    as: SubjectOutput.self
                )
                try options.emit(answer, text: SubjectsCommand.lines)
            }
        }
    }

    /// The subject id argument, or the first line of standard input for `-`.
    static func read(_ argument: String) throws -> String {
        guard argument == "-" else { return argument }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIError("SUBJECT_ID is -, and standard input holds no subject id")
        }
        return line
    }

    /// A subject in one domain, as text.
    static func lines(_ subject: SubjectOutput) -> [String] {
        var lines = ["domain      \(subject.domain)", "pseudonym   \(subject.pseudonym)"]
        if let erasure = subject.erasure {
            lines.append("erased      \(cell(erasure.erasedAt)) by \(erasure.erasedBy): \(erasure.reason)")
            lines.append("destroyed   \(erasure.keysDestroyed) keystore items")
            if erasure.fenced {
                lines.append("fence       standing: its keys are not created again")
            } else {
                lines.append(
                    "fence       lifted \(cell(erasure.liftedAt)) by \(cell(erasure.liftedBy)): \(cell(erasure.liftReason))"
                )
            }
        } else {
            lines.append("erased      no")
        }
        lines.append(
            contentsOf: subject.keys.isEmpty
                ? ["keys        none"]
                : table(
                    ["EVENT TYPE", "BRANCH KEY", "CREATED"],
                    subject.keys.map { [$0.eventType, $0.branchKeyId, cell($0.createDate)] }
                )
        )
        return lines + [""]
    }
}
