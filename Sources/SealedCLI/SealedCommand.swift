public import ArgumentParser

/// The `sealed` command line.
public struct SealedCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sealed",
        abstract: "Sealed Events: protect the sensitive part of events with KMS-wrapped data keys.",
        discussion: """
            Messages are byte-compatible with the AWS Encryption SDK, so consumers in Python, Java and \
            other languages open them with the official SDKs.
            """,
        subcommands: [ESDKCommand.self]
    )

    public init() {}
}
