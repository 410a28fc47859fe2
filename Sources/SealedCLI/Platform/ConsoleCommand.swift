internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import WireShapes

/// `sealed console`: the web console that `sealed serve` serves at `/console`.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The web console at /console on the server.",
        subcommands: [Login.self]
    )

    /// `sealed console login`: a one-time sign-in link for the caller's own identity.
    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login",
            abstract: "Print a one-time link that signs you in to the web console as yourself.",
            discussion: """
                The server signs the link for the identity of the credentials this command signs with (a profile \
                of ~/.aws, the environment), so no secret is typed into a browser. It works once, within five \
                minutes, and only while that access key stays active. Treat it as a password until it is used.
                """
        )
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.createConsoleLink, as: ConsoleLinkOutput.self)
                let (endpoint, _) = try options.resolvedEndpoint()
                var base = endpoint.absoluteString
                while base.hasSuffix("/") { base.removeLast() }
                let url = base + answer.output.path
                try options.emit(ConsoleLinkOutput(path: url, expiration: answer.output.expiration)) { link in
                    [link.path, "Open it within five minutes; it works once (expires \(cell(link.expiration)))."]
                }
            }
        }
    }
}
