import Foundation
import SealedTesting
import Testing

/// `sealed esdk …` as scripts use it: the built `sealed` binary, run as a process.
struct ESDKCommandTests {
    struct Run {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    static var binary: URL {
        get throws { try TestEnvironment.sealedBinary }
    }

    static func sealed(
        _ arguments: [String],
        stdin: Data? = nil,
        environment: [String: String] = [:]
    ) async throws -> Run {
        let run = try await ChildProcess.run(try binary, arguments: arguments, environment: environment, input: stdin ?? Data())
        return Run(status: run.status, stdout: run.standardOutput, stderr: run.errors)
    }

    static let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let keyArgs = ["--raw-aes-key", key, "--key-namespace", "cli", "--key-name", "k1"]

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: ["0x0478", "0x0578"])
    func encryptDecryptFilesAndPipes(suite: String) async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plaintext = Data((0..<100_000).map { UInt8($0 % 251) })
        let input = folder.appendingPathComponent("plain")
        try plaintext.write(to: input)
        let sealedFile = folder.appendingPathComponent("sealed")
        let encrypt = try await Self.sealed(
            [
                "esdk", "encrypt", "--input", input.path, "--output", sealedFile.path, "--suite", suite,
                "--frame-length", "1024", "--context", "tenant=acme", "--context", "ключ=значение",
            ] + Self.keyArgs
        )
        #expect(encrypt.status == 0, "\(encrypt.stderr)")
        #expect(encrypt.stdout.isEmpty && encrypt.stderr.isEmpty)
        // Decrypt from a pipe to standard output, checking part of the context.
        let decrypt = try await Self.sealed(
            ["esdk", "decrypt", "--input", "-", "--output", "-", "--context", "tenant=acme"] + Self.keyArgs,
            stdin: try Data(contentsOf: sealedFile)
        )
        #expect(decrypt.status == 0, "\(decrypt.stderr)")
        #expect(decrypt.stdout == plaintext)
        // And to a file.
        let output = folder.appendingPathComponent("out")
        let toFile = try await Self.sealed(
            ["esdk", "decrypt", "--input", sealedFile.path, "--output", output.path] + Self.keyArgs
        )
        #expect(toFile.status == 0)
        #expect(try Data(contentsOf: output) == plaintext)
        let attributes = try FileManager.default.attributesOfItem(atPath: output.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func failuresPrintOneLineAndNoOutput() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("plain")
        try Data(repeating: 7, count: 5000).write(to: input)
        let sealedFile = folder.appendingPathComponent("sealed")
        #expect(
            try await Self.sealed(
                ["esdk", "encrypt", "--input", input.path, "--output", sealedFile.path, "--suite", "0x0478"]
                    + Self.keyArgs
            ).status == 0
        )
        var tampered = try Data(contentsOf: sealedFile)
        tampered[tampered.count - 20] ^= 1
        let target = folder.appendingPathComponent("never")

        let cases: [([String], Data?)] = [
            (["esdk", "decrypt", "--input", "-", "--output", "-"] + Self.keyArgs, tampered),
            (["esdk", "decrypt", "--input", "-", "--output", target.path] + Self.keyArgs, tampered),
            (
                ["esdk", "decrypt", "--input", sealedFile.path, "--output", "-", "--context", "tenant=other"]
                    + Self.keyArgs, nil
            ),
            (
                [
                    "esdk", "decrypt", "--input", sealedFile.path, "--output", "-", "--raw-aes-key",
                    Data(repeating: 1, count: 32).base64EncodedString(), "--key-namespace", "cli", "--key-name", "k1",
                ], nil
            ),
            (
                ["esdk", "decrypt", "--input", sealedFile.path, "--output", "-", "--max-encrypted-data-keys", "0"]
                    + Self.keyArgs, nil
            ),
            (["esdk", "encrypt", "--input", input.path, "--output", "-", "--suite", "0x0178"] + Self.keyArgs, nil),
            (
                ["esdk", "encrypt", "--input", input.path, "--output", "-", "--context", "aws-crypto-x=1"]
                    + Self.keyArgs, nil
            ),
            (
                ["esdk", "encrypt", "--input", folder.appendingPathComponent("missing").path, "--output", "-"]
                    + Self.keyArgs, nil
            ),
            (
                [
                    "esdk", "encrypt", "--input", input.path, "--output", "-", "--raw-aes-key", "bm90IGEga2V5",
                    "--key-namespace", "n", "--key-name", "k",
                ], nil
            ),
            (
                ["esdk", "encrypt", "--input", input.path, "--output", "-", "--key-namespace", "n", "--key-name", "k"],
                nil
            ),
            (["esdk", "encrypt", "--output", "-"] + Self.keyArgs, nil),
            (["esdk", "frobnicate"], nil),
        ]
        for (arguments, stdin) in cases {
            let run = try await Self.sealed(arguments, stdin: stdin)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stdout.isEmpty, "\(arguments)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && run.stderr.hasPrefix("error: "), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains(Self.key), "the key leaked into stderr")
        }
        #expect(!FileManager.default.fileExists(atPath: target.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasPrefix(".") || $0.hasSuffix(".partial")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func runtimeErrorsAreExactlyOneLine() async throws {
        let run = try await Self.sealed(
            ["esdk", "decrypt", "--input", "-", "--output", "-"] + Self.keyArgs,
            stdin: Data([1, 2, 3])
        )
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("error: "))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test func vectorsCommandSummarises() async throws {
        guard let folder = try TestEnvironment.vectors("esdk") else { return }
        let run = try await Self.sealed(["esdk", "vectors", folder.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).hasSuffix("220 passed, 0 failed\n"))
        let kat = try await Self.sealed([
            "esdk", "vectors", folder.appendingPathComponent("commitment-kat/commitment-test-vectors.json").path,
        ])
        #expect(String(decoding: kat.stdout, as: UTF8.self) == "28 passed, 0 failed\n")
    }

    @Test func vectorsCommandReportsFailures() async throws {
        guard let source = try TestEnvironment.vectors("esdk/python-nonframed") else { return }
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("nonframed")
        try FileManager.default.copyItem(at: source, to: copy)
        let ciphertexts = copy.appendingPathComponent("ciphertexts")
        let file = try FileManager.default.contentsOfDirectory(at: ciphertexts, includingPropertiesForKeys: nil)[0]
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 3] ^= 1
        try bytes.write(to: file)
        let run = try await Self.sealed(["esdk", "vectors", copy.path])
        #expect(run.status != 0)
        let lines = String(decoding: run.stdout, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("FAIL nonframed/") == true)
        #expect(lines.last == "0 passed, 1 failed")
    }

    @Test func helpExplainsTheCommands() async throws {
        let run = try await Self.sealed(["esdk", "encrypt", "--help"])
        let text = String(decoding: run.stdout, as: UTF8.self)
        for option in [
            "--raw-aes-key", "--raw-aes-key-file", "--key-namespace", "--suite", "--frame-length", "--context",
            "--max-encrypted-data-keys",
        ] {
            #expect(text.contains(option), "\(option) missing from help")
        }
    }

    @Test func keyFileAcceptsBase64AndRawBytes() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base64File = folder.appendingPathComponent("key.b64")
        try Data((Self.key + "\n").utf8).write(to: base64File)
        let rawFile = folder.appendingPathComponent("key.bin")
        try Data((0..<32).map { UInt8($0) }).write(to: rawFile)
        let input = folder.appendingPathComponent("plain")
        try Data("hi".utf8).write(to: input)
        let encrypted = try await Self.sealed([
            "esdk", "encrypt", "--input", input.path, "--output", "-", "--raw-aes-key-file", base64File.path,
            "--key-namespace", "cli", "--key-name", "k1",
        ])
        #expect(encrypted.status == 0)
        let decrypted = try await Self.sealed(
            [
                "esdk", "decrypt", "--input", "-", "--output", "-", "--raw-aes-key-file", rawFile.path,
                "--key-namespace", "cli", "--key-name", "k1",
            ],
            stdin: encrypted.stdout
        )
        #expect(decrypted.stdout == Data("hi".utf8))
    }

    // MARK: AWS KMS keys (against the moto server scripts/test starts)

    static func awsEnvironment(_ user: MotoFixture.User) -> [String: String] {
        [
            "AWS_ACCESS_KEY_ID": user.accessKeyId, "AWS_SECRET_ACCESS_KEY": user.secretAccessKey,
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        ]
    }

    @Test func kmsKeysEncryptAndDecrypt() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("plain")
        let plaintext = Data((0..<9000).map { UInt8($0 % 199) })
        try plaintext.write(to: input)
        let endpoint = ["--endpoint-url", moto.endpoint, "--region", moto.region]
        let env = Self.awsEnvironment(moto.allowed)
        // Two KMS keys and a raw AES key: any of them opens the message alone.
        let encrypted = try await Self.sealed(
            ["esdk", "encrypt", "--input", input.path, "--output", "-", "--kms-key", moto.alias, "--kms-key", moto.secondaryKey,
             "--context", "tenant=acme"] + Self.keyArgs + endpoint,
            environment: env
        )
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let decryptions: [[String]] = [
            ["--kms-key", moto.primaryKey] + endpoint,
            ["--kms-key", moto.secondaryKey] + endpoint,
            ["--discovery"] + endpoint,
            Self.keyArgs,
        ]
        for keys in decryptions {
            let run = try await Self.sealed(["esdk", "decrypt", "--input", "-", "--output", "-"] + keys, stdin: encrypted.stdout, environment: env)
            #expect(run.status == 0, "\(keys): \(run.stderr)")
            #expect(run.stdout == plaintext, "\(keys)")
        }
    }

    @Test func kmsRefusalsPrintTheAWSErrorCode() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("plain")
        try Data("secret".utf8).write(to: input)
        let endpoint = ["--endpoint-url", moto.endpoint, "--region", moto.region]
        let denied = try await Self.sealed(
            ["esdk", "encrypt", "--input", input.path, "--output", "-", "--kms-key", moto.primaryKey] + endpoint,
            environment: Self.awsEnvironment(moto.denied)
        )
        #expect(denied.status != 0)
        #expect(denied.stdout.isEmpty)
        #expect(denied.stderr.hasPrefix("error: AccessDeniedException"), "\(denied.stderr)")
        #expect(denied.stderr.split(separator: "\n").count == 1)
        #expect(!denied.stderr.contains(moto.denied.secretAccessKey))

        let sealedMessage = try await Self.sealed(
            ["esdk", "encrypt", "--input", input.path, "--output", "-", "--kms-key", moto.primaryKey] + endpoint,
            environment: Self.awsEnvironment(moto.allowed)
        )
        #expect(sealedMessage.status == 0, "\(sealedMessage.stderr)")
        let deniedDecrypt = try await Self.sealed(
            ["esdk", "decrypt", "--input", "-", "--output", "-", "--kms-key", moto.primaryKey] + endpoint,
            stdin: sealedMessage.stdout,
            environment: Self.awsEnvironment(moto.denied)
        )
        #expect(deniedDecrypt.status != 0)
        #expect(deniedDecrypt.stdout.isEmpty)
        #expect(deniedDecrypt.stderr.contains("AccessDeniedException"), "\(deniedDecrypt.stderr)")
        // Option errors: discovery cannot encrypt; AWS options need a KMS key.
        let discovery = try await Self.sealed(["esdk", "encrypt", "--input", input.path, "--output", "-", "--discovery"] + endpoint)
        #expect(discovery.status != 0 && discovery.stderr.hasPrefix("error: "))
        let stray = try await Self.sealed(["esdk", "encrypt", "--input", input.path, "--output", "-", "--region", "us-east-1"] + Self.keyArgs)
        #expect(stray.status != 0 && stray.stderr.hasPrefix("error: "))
    }
}
