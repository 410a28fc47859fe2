public import ArgumentParser
internal import Foundation

/// The `sealed` command line.
public struct SealedCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sealed",
        abstract: "Sealed Events: protect the sensitive part of events with KMS-wrapped data keys.",
        discussion: """
            Messages are byte-compatible with the AWS Encryption SDK, so consumers in Python, Java and \
            other languages open them with the official SDKs.
            """,
        subcommands: [
            ServeCommand.self, IAMCommand.self, CatalogCommand.self, SubjectsCommand.self, AccessCommand.self,
            AuditCommand.self, ConsoleCommand.self,
            TopicsCommand.self, PublishCommand.self,
            ConsumeCommand.self, DemoCommand.self, ESDKCommand.self,
            SigV4Command.self, OpenAPICommand.self, AWSCommand.self,
        ]
    )

    public init() {}
}

extension SealedCommand {
    /// Runs the command line and exits: 0 on success, non-zero after exactly one line on standard
    /// error (`error: …`) otherwise, so scripts can rely on the shape. Help goes to standard output.
    public static func runAndExit(_ arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(withError: nil)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "failed"
            let line =
                message.hasPrefix("Error: ") ? "error: " + message.dropFirst("Error: ".count) : "error: " + message
            FileHandle.standardError.write(Data((line + " (see --help)\n").utf8))
            exit(withError: code)
        }
    }
}
