internal import ArgumentParser
internal import Crypto
internal import EncryptionSDK
internal import Foundation
internal import KMS

/// `sealed esdk`: AWS Encryption SDK messages on files and pipes.
struct ESDKCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esdk",
        abstract: "Encrypt and decrypt AWS Encryption SDK messages with AWS KMS or raw AES keys; run test vectors.",
        subcommands: [Encrypt.self, Decrypt.self, Vectors.self]
    )
}

/// Options naming the wrapping keys: raw AES, AWS KMS, or both (a multi-keyring).
struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("raw-aes-key"), help: "A raw AES wrapping key (16, 24 or 32 bytes), base64.")
    var key: String?

    @Option(
        name: .customLong("raw-aes-key-file"),
        help: "A file holding the raw AES wrapping key, as base64 text or as 16, 24 or 32 raw bytes.",
        completion: .file()
    )
    var keyFile: String?

    @Option(name: .customLong("key-namespace"), help: "The raw key's namespace (the provider ID in the message).")
    var namespace: String?

    @Option(name: .customLong("key-name"), help: "The raw key's name inside the namespace.")
    var name: String?

    @Option(
        name: .customLong("kms-key"),
        help: ArgumentHelp(
            "An AWS KMS key: key ARN, key id, alias name or alias ARN. Repeatable.",
            discussion: """
                On encrypt the first key generates the data key and every other one wraps it too. On                 decrypt give key ARNs: a message names its keys by ARN.
                """
        )
    )
    var kmsKeys: [String] = []

    @Flag(name: .customLong("discovery"), help: "Decrypt with whichever KMS key the message names (decrypt only).")
    var discovery = false

    @Option(name: .customLong("endpoint-url"), help: "The KMS (and STS) endpoint, e.g. http://127.0.0.1:8080.")
    var endpointURL: String?

    @Option(name: .customLong("region"), help: "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile).")
    var region: String?

    @Option(name: .customLong("profile"), help: "The AWS profile of ~/.aws/credentials and ~/.aws/config to use.")
    var profile: String?

    var usesKMS: Bool { !kmsKeys.isEmpty || discovery }

    func validate() throws {
        guard key == nil || keyFile == nil else {
            throw ValidationError("give at most one of --raw-aes-key and --raw-aes-key-file")
        }
        let hasRawKey = key != nil || keyFile != nil
        guard hasRawKey || usesKMS else {
            throw ValidationError("name a key: --kms-key, --discovery, or --raw-aes-key(-file) with --key-namespace and --key-name")
        }
        if hasRawKey, namespace == nil || name == nil {
            throw ValidationError("a raw AES key needs --key-namespace and --key-name")
        }
        if !usesKMS, endpointURL != nil || region != nil || profile != nil {
            throw ValidationError("--endpoint-url, --region and --profile apply to KMS keys only")
        }
    }

    /// The keyrings for encrypting: KMS keys first (the first one generates), then the raw key.
    func encryptionKeyring() throws -> any Keyring {
        guard !discovery else { throw CLIError("--discovery is for decrypt only") }
        var keyrings: [any Keyring] = []
        if !kmsKeys.isEmpty {
            keyrings.append(try KMSKeyring(generatorKeyId: kmsKeys[0], keyIds: Array(kmsKeys.dropFirst()), client: try kmsClient()))
        }
        if let raw = try rawKeyring() { keyrings.append(raw) }
        return keyrings.count == 1 ? keyrings[0] : try MultiKeyring(generator: keyrings[0], children: Array(keyrings.dropFirst()))
    }

    /// The keyrings for decrypting: any of them may unwrap the data key.
    func decryptionKeyring() throws -> any Keyring {
        var keyrings: [any Keyring] = []
        if discovery {
            keyrings.append(try KMSKeyring.discovery(client: try kmsClient()))
        } else if !kmsKeys.isEmpty {
            keyrings.append(try KMSKeyring(generatorKeyId: nil, keyIds: kmsKeys, client: try kmsClient()))
        }
        if let raw = try rawKeyring() { keyrings.append(raw) }
        return keyrings.count == 1 ? keyrings[0] : try MultiKeyring(generator: nil, children: keyrings)
    }

    private func kmsClient() throws -> KMSClient {
        var endpoint: URL?
        if let endpointURL {
            guard let url = URL(string: endpointURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw CLIError("--endpoint-url must be an http(s) URL, not \"\(endpointURL)\"")
            }
            endpoint = url
        }
        let configuration = try AWSConfiguration.resolve(profile: profile, region: region, endpoint: endpoint)
        return try KMSClient(configuration: configuration)
    }

    private func rawKeyring() throws -> RawAESKeyring? {
        guard let namespace, let name, key != nil || keyFile != nil else { return nil }
        let bytes: [UInt8]
        if let key {
            guard let decoded = Data(base64Encoded: key.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw CLIError("--raw-aes-key is not base64")
            }
            bytes = [UInt8](decoded)
        } else {
            let path = keyFile!
            guard let contents = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read key file \(path)") }
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

        @OptionGroup var key: KeyOptions
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
                    materialsManager: DefaultMaterialsManager(keyring: try key.encryptionKeyring()),
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

        @OptionGroup var key: KeyOptions
        @OptionGroup var io: MessageIOOptions

        func run() async throws {
            try await CLIError.reporting {
                let client = EncryptionClient(maxEncryptedDataKeys: io.maxEncryptedDataKeys)
                let input = try InputFile(io.input)
                let stream = client.decryptStream(
                    input.chunks,
                    materialsManager: DefaultMaterialsManager(keyring: try key.decryptionKeyring()),
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
