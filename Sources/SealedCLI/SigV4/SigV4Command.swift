internal import ArgumentParser
internal import Foundation

/// `sealed sigv4`: AWS Signature Version 4 tools.
struct SigV4Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigv4",
        abstract: "AWS Signature Version 4: run the AWS SigV4 test suite through the signer and the verifier.",
        subcommands: [Vectors.self]
    )
}

extension SigV4Command {
    struct Vectors: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run AWS SigV4 test-suite cases through the signer and the verifier.",
            discussion: """
                PATH is a case folder or a folder searched recursively for case folders. A case folder is in \
                the CRT layout (context.json, request.txt, header-* files, and query-* files when it also \
                covers presigned URLs) or in the classic layout (NAME.req, .creq, .sts, .authz and .sreq, each \
                .req a case; header signing only, with the suite's fixed inputs: AKIDEXAMPLE, \
                us-east-1, service, 20150830T123600Z, normalized paths).

                Counts are per check, not per case. Header mode has 8 checks and query mode 7: \
                canonical request, string to sign, signature, authorization (header mode only), signed \
                request (the signer's output, order aside), verify (the verifier accepts the signed request \
                and names the case's key, scope and time), one-byte changes (a one-byte change to the method, \
                path, query, a signed header, X-Amz-Date, the credential scope, the signature or a hashed \
                body is rejected) and benign changes (upper-cased header names and added whitespace still \
                verify). A presigned URL whose session token was added after signing (omit_session_token, \
                as in post-sts-header-after) passes verify when it is rejected with signatureMismatch; its \
                two change checks are not run, nor are they when verify fails. A case whose files cannot be \
                read fails the part it stops at as one check. The whole suite (25 CRT cases, 2 classic) is \
                389 checks.

                Prints one line per failed check, "FAIL <case> <mode>/<check>: <why>" (with --verbose, also \
                "PASS …" for each passed check), then "N passed, N failed". Exits non-zero if any check \
                failed; a missing PATH or one without cases is a one-line error on standard error.
                """
        )

        @Argument(help: "The suite folder, a case folder, or a folder of such folders.", completion: .directory)
        var path: String

        @Flag(name: .customLong("verbose"), help: "Also print a PASS line for each check that passed.")
        var verbose = false

        func run() async throws {
            try await CLIError.reporting {
                let outcomes = try await SigV4Vectors.run(URL(fileURLWithPath: path))
                var failed = 0
                for outcome in outcomes {
                    if !outcome.passed {
                        failed += 1
                        print("FAIL \(outcome.name): \(outcome.detail)")
                    } else if verbose {
                        print("PASS \(outcome.name)" + (outcome.detail.isEmpty ? "" : ": \(outcome.detail)"))
                    }
                }
                print("\(outcomes.count - failed) passed, \(failed) failed")
                if failed > 0 { throw ExitCode.failure }
            }
        }
    }
}
