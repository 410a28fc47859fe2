import Benchmark
import Crypto
import EncryptionSDK
import Foundation

/// Encrypt + decrypt through the caching CMM, beside the crypto floor for the same work straight
/// from swift-crypto. `scripts/bench` prints the ratios, and the Python ESDK beside them.
let benchmarks: @Sendable () -> Void = {
    // Fast operations run a thousand times per sample so the harness's own cost (an executor hop
    // into each async closure) does not show; the signed ones, a thousand times slower, once.
    let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]
    let fast = Benchmark.Configuration(
        metrics: metrics,
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )
    let slow = Benchmark.Configuration(
        metrics: metrics,
        warmupIterations: 20,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    let key = SymmetricKey(data: (0..<32).map { UInt8($0) })
    let keyring = try! RawAESKeyring(keyNamespace: "bench", keyName: "aes-256", wrappingKey: key)
    let cmm = try! CachingMaterialsManager(keyring: keyring, maxAge: .seconds(300))
    let client = EncryptionClient()
    // The same context as the Python side of scripts/bench (esdk_bench.py).
    let context: EncryptionContext = ["tenant": "bench"]

    for (suite, suiteName) in [
        (AlgorithmSuite.aes256GCMHKDFSHA512Committing, "0x0478"), (.aes256GCMHKDFSHA512CommittingECDSAP384, "0x0578"),
    ] {
        for (size, sizeName) in [(1024, "1KiB"), (65536, "64KiB")] {
            let plaintext = [UInt8](repeating: 0x5A, count: size)
            let configuration = suite.signature == nil ? fast : slow
            Benchmark("esdk \(suiteName) \(sizeName) encrypt+decrypt", configuration: configuration) { benchmark in
                for _ in benchmark.scaledIterations {
                    let message = try await client.encrypt(
                        plaintext,
                        materialsManager: cmm,
                        encryptionContext: context,
                        algorithmSuite: suite
                    )
                    blackHole(try await client.decrypt(message.ciphertext, materialsManager: cmm))
                }
            }
            Benchmark("floor \(suiteName) \(sizeName) encrypt+decrypt", configuration: configuration) {
                benchmark async throws in
                for _ in benchmark.scaledIterations {
                    blackHole(try Floor.encryptDecrypt(plaintext, dataKey: key, signed: suite.signature != nil))
                }
            }
        }
    }

    let signingKey = P384.Signing.PrivateKey()
    let digest = SHA384.hash(data: [UInt8](repeating: 1, count: 1024))
    Benchmark("floor P-384 sign+verify", configuration: slow) { benchmark async throws in
        for _ in benchmark.scaledIterations {
            let signature = try signingKey.signature(for: digest)
            blackHole(signingKey.publicKey.isValidSignature(signature, for: digest))
        }
    }

    let sample = try! [UInt8](Data(contentsOf: URL(fileURLWithPath: #filePath)).prefix(1024))
    Benchmark("esdk header parse (1 EDK, 1-pair context)", configuration: fast) { benchmark in
        let message = try await client.encrypt(
            sample,
            keyring: keyring,
            encryptionContext: context,
            algorithmSuite: .aes256GCMHKDFSHA512Committing
        )
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try MessageHeader(parsing: message.ciphertext))
        }
    }
}

/// The cryptographic work of one single-frame committing message, encrypt then decrypt, with no
/// message format: HKDF-SHA-512 (extract, two expands), the header tag and the frame with
/// AES-256-GCM, and for signed suites SHA-384 over the message and one P-384 sign and verify.
enum Floor {
    static let messageID = [UInt8](repeating: 7, count: 32)
    static let header = [UInt8](repeating: 3, count: 200)
    static let frameAAD = [UInt8](repeating: 9, count: 80)
    static let signingKey = P384.Signing.PrivateKey()

    static func derive(_ dataKey: SymmetricKey) -> (SymmetricKey, SymmetricKey) {
        let prk = HKDF<SHA512>.extract(inputKeyMaterial: dataKey, salt: messageID)
        let key = HKDF<SHA512>.expand(
            pseudoRandomKey: prk,
            info: Array("\u{05}\u{78}DERIVEKEY".utf8),
            outputByteCount: 32
        )
        let commitment = HKDF<SHA512>.expand(pseudoRandomKey: prk, info: Array("COMMITKEY".utf8), outputByteCount: 32)
        return (key, commitment)
    }

    static func encryptDecrypt(_ plaintext: [UInt8], dataKey: SymmetricKey, signed: Bool) throws -> Int {
        let nonce = try AES.GCM.Nonce(data: [UInt8](repeating: 0, count: 12))
        let (key, _) = derive(dataKey)
        let headerTag = try AES.GCM.seal([UInt8](), using: key, nonce: nonce, authenticating: header).tag
        let frame = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: frameAAD)
        var signature: P384.Signing.ECDSASignature?
        if signed {
            var hasher = SHA384()
            hasher.update(data: header)
            hasher.update(data: frame.ciphertext)
            signature = try signingKey.signature(for: hasher.finalize())
        }

        let (key2, _) = derive(dataKey)
        _ = try AES.GCM.open(
            AES.GCM.SealedBox(nonce: nonce, ciphertext: [UInt8](), tag: headerTag),
            using: key2,
            authenticating: header
        )
        let opened = try AES.GCM.open(frame, using: key2, authenticating: frameAAD)
        if let signature {
            var hasher = SHA384()
            hasher.update(data: header)
            hasher.update(data: frame.ciphertext)
            guard signingKey.publicKey.isValidSignature(signature, for: hasher.finalize()) else {
                throw CryptoKitError.authenticationFailure
            }
        }
        return opened.count
    }
}
