import Crypto
import CryptoExtras
import EncryptionSDK
import Synchronization

enum Fixtures {
    static let aesKey = SymmetricKey(data: (0..<32).map { UInt8($0) })
    static let aesKeyring = try! RawAESKeyring(keyNamespace: "sealed-tests", keyName: "aes-256", wrappingKey: aesKey)
    static let otherAESKeyring = try! RawAESKeyring(
        keyNamespace: "sealed-tests",
        keyName: "aes-256",
        wrappingKey: SymmetricKey(size: .bits256)
    )
    static let rsaPEM: (privateKey: String, publicKey: String) = {
        let key = try! _RSA.Encryption.PrivateKey(keySize: .bits2048)
        return (key.pemRepresentation, key.publicKey.pemRepresentation)
    }()
    static let context: EncryptionContext = ["tenant": "acme", "purpose": "tests", "grüße": "čšž 🔐"]

    static func rsaKeyring(_ padding: RawRSAKeyring.Padding, name: String = "rsa-2048") -> RawRSAKeyring {
        try! RawRSAKeyring(
            keyNamespace: "sealed-tests-rsa",
            keyName: name,
            padding: padding,
            privateKeyPEM: rsaPEM.privateKey
        )
    }

    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }
}

/// An async sequence of fixed chunks, for the streaming APIs.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let chunks: [[UInt8]]

    init(_ bytes: [UInt8], sizes: [Int]) {
        var chunks: [[UInt8]] = []
        var offset = 0
        var index = 0
        while offset < bytes.count {
            let size = Swift.max(1, sizes[index % sizes.count])
            chunks.append(Array(bytes[offset..<Swift.min(bytes.count, offset + size)]))
            offset += size
            index += 1
        }
        self.chunks = chunks
    }

    func makeAsyncIterator() -> IndexingIterator<[[UInt8]]>.AsyncAdapter { .init(base: chunks.makeIterator()) }
}

extension IndexingIterator {
    struct AsyncAdapter: AsyncIteratorProtocol {
        var base: IndexingIterator
        mutating func next() async -> Element? { base.next() }
    }
}

func collect<S: AsyncSequence>(_ stream: S) async throws -> [UInt8] where S.Element == [UInt8] {
    var out: [UInt8] = []
    for try await chunk in stream { out += chunk }
    return out
}
