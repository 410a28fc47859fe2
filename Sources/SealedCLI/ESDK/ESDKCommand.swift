internal import ArgumentParser
internal import Crypto
internal import EncryptionSDK
internal import Foundation

/// `sealed esdk`: AWS Encryption SDK messages on files and pipes.
struct ESDKCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esdk",
        abstract: "Encrypt and decrypt AWS Encryption SDK messages with a raw AES key; run test vectors.",
        subcommands: [Encrypt.self, Decrypt.self, Vectors.self]
    )
}

/// Options naming the raw AES wrapping key.
struct RawAESKeyOptions: ParsableArguments {
    @Option(name: .customLong("raw-aes-key"), help: "The AES wrapping key (16, 24 or 32 bytes), base64.")
    var key: String?

    @Option(
        name: .customLong("raw-aes-key-file"),
        help: "A file holding the wrapping key, as base64 text or as 16, 24 or 32 raw bytes.",
        completion: .file()
    )
    var keyFile: String?

    @Option(name: .customLong("key-namespace"), help: "The key namespace (the provider ID in the message).")
    var namespace: String

    @Option(name: .customLong("key-name"), help: "The key name inside the namespace.")
    var name: String

    func validate() throws {
        guard (key == nil) != (keyFile == nil) else {
            throw ValidationError("give exactly one of --raw-aes-key and --raw-aes-key-file")
        }
    }

    func keyring() throws -> RawAESKeyring {
        let bytes: [UInt8]
        if let key {
            guard let decoded = Data(base64Encoded: key.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw CLIError("--raw-aes-key is not base64")
            }
            bytes = [UInt8](decoded)
        } else {
            let path = keyFile!
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read key file \(path)")
            }
            let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let decoded = Data(base64Encoded: text), [16, 24, 32].contains(decoded.count) {
                bytes = [UInt8](decoded)
            } else {
                bytes = [UInt8](contents)
            }
        }
        return try RawAESKeyring(keyNamespace: namespace, keyName: name, wrappingKey: SymmetricKey(data: bytes))
    }
}

/// Input, output, context and limits shared by encrypt and decrypt.
struct MessageIOOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: "The file to read, or - for standard input.", completion: .file())
    var input: String

    @Option(
        name: .customLong("output"),
        help:
            "The file to write, or - for standard output. Files are written beside the target and renamed into place only on success.",
        completion: .file()
    )
    var output: String

    @Option(
        name: .customLong("context"),
        help: ArgumentHelp(
            "An encryption context pair KEY=VALUE; repeat for more.",
            discussion: "On decrypt: pairs the message's context must hold (or that were kept out of it)."
        )
    )
    var context: [String] = []

    @Option(
        name: .customLong("max-encrypted-data-keys"),
        help: "Refuse messages with more encrypted data keys than this."
    )
    var maxEncryptedDataKeys: Int?

    func encryptionContext() throws -> EncryptionContext {
        var context: EncryptionContext = [:]
        for pair in self.context {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("--context needs KEY=VALUE, got \"\(pair)\"")
            }
            let key = String(pair[..<equals])
            guard context.updateValue(String(pair[pair.index(after: equals)...]), forKey: key) == nil else {
                throw CLIError("--context gives key \"\(key)\" twice")
            }
        }
        return context
    }

    func validate() throws {
        if let maxEncryptedDataKeys, maxEncryptedDataKeys < 1 {
            throw ValidationError("--max-encrypted-data-keys must be at least 1")
        }
    }
}

extension ESDKCommand {
    struct Encrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encrypt a file or standard input into an AWS Encryption SDK message.",
            discussion: "Streams: memory stays near one frame for file output, whatever the input size."
        )

        @OptionGroup var key: RawAESKeyOptions
        @OptionGroup var io: MessageIOOptions

        @Option(name: .customLong("suite"), help: "The algorithm suite: 0x0578 (signed, the default) or 0x0478.")
        var suite: String = "0x0578"

        @Option(name: .customLong("frame-length"), help: "Plaintext bytes per frame.")
        var frameLength: Int = EncryptionClient.defaultFrameLength

        func run() async throws {
            try await CLIError.reporting {
                guard let suite = AlgorithmSuite(suite), [0x0478, 0x0578].contains(suite.id) else {
                    throw CLIError("--suite must be 0x0478 or 0x0578")
                }
                let client = EncryptionClient(maxEncryptedDataKeys: io.maxEncryptedDataKeys)
                let input = try InputFile(io.input)
                let stream = client.encryptStream(
                    input.chunks,
                    materialsManager: DefaultMaterialsManager(keyring: try key.keyring()),
                    encryptionContext: try io.encryptionContext(),
                    algorithmSuite: suite,
                    frameLength: frameLength,
                    plaintextLength: input.size
                )
                try await OutputFile.write(stream, to: io.output)
            }
        }
    }

    struct Decrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt an AWS Encryption SDK message from a file or standard input.",
            discussion: """
                Nothing is written unless the whole message authenticates: standard output is written \
                at the end, a file is renamed into place at the end. Unsigned messages (0x0478) stream \
                in constant memory to a file; signed messages are held in memory (up to 64 MiB) until \
                their signature verifies.
                """
        )

        @OptionGroup var key: RawAESKeyOptions
        @OptionGroup var io: MessageIOOptions

        func run() async throws {
            try await CLIError.reporting {
                let client = EncryptionClient(maxEncryptedDataKeys: io.maxEncryptedDataKeys)
                let input = try InputFile(io.input)
                let stream = client.decryptStream(
                    input.chunks,
                    materialsManager: DefaultMaterialsManager(keyring: try key.keyring()),
                    encryptionContext: try io.encryptionContext()
                )
                try await OutputFile.write(stream, to: io.output)
            }
        }
    }

    struct Vectors: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run AWS Encryption SDK decrypt test vectors.",
            discussion: """
                PATH is a folder with manifest.json (awses-decrypt versions 2, 4 and 5, with keys.json), \
                a known-answer file like commitment-test-vectors.json, or a folder of such folders, \
                searched recursively. Prints one line per failure, then "N passed, N failed".
                """
        )

        @Argument(help: "The vectors file or folder.", completion: .file())
        var path: String

        func run() async throws {
            try await CLIError.reporting {
                let outcomes = try await TestVectors.run(URL(fileURLWithPath: path))
                let failures = outcomes.filter { !$0.passed }
                for failure in failures { print("FAIL \(failure.name): \(failure.detail)") }
                print("\(outcomes.count - failures.count) passed, \(failures.count) failed")
                if !failures.isEmpty || outcomes.isEmpty { throw ExitCode.failure }
            }
        }
    }
}
