import Crypto
import EncryptionSDK

/// The ESDK message format: the header parser alone, and whole messages through one-shot and streaming decrypt.
enum ESDKTargets {
    /// The keyring the committed seeds were encrypted with by the official Python ESDK (`Fuzz/Corpus/esdk-decrypt`,
    /// written by `Fuzz/make-seeds.py`), so that mutations reach the body and footer behind a valid header.
    static let keyring = try! RawAESKeyring(
        keyNamespace: "sealed-fuzz",
        keyName: "fuzz-key",
        wrappingKey: SymmetricKey(data: [UInt8](repeating: 0x5A, count: 32))
    )

    /// A header parses or is refused with a typed error; a parsed header serializes to the bytes it was read from and
    /// parses again to the same fields.
    static let header: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        let message = [UInt8](input)
        let header: MessageHeader
        do {
            header = try MessageHeader(parsing: message, maxEncryptedDataKeys: 16)
        } catch {
            return
        }
        let bytes = header.serialized
        FuzzCheck.require(message.starts(with: bytes), "the serialized header is not the prefix it was read from")
        guard let again = try? MessageHeader(parsing: bytes, maxEncryptedDataKeys: 16) else {
            FuzzCheck.fail("a serialized header does not parse again")
        }
        FuzzCheck.require(
            again.version == header.version && again.algorithmSuite == header.algorithmSuite
                && again.messageID == header.messageID && again.encryptionContext == header.encryptionContext
                && again.encryptedDataKeys == header.encryptedDataKeys && again.contentType == header.contentType
                && again.frameLength == header.frameLength,
            "a header parsed again differs"
        )
    }

    /// The first byte picks a chunk size and a commitment policy; the rest is a message. One-shot decrypt and
    /// streaming decrypt in chunks of that size must agree: the same plaintext, or both refuse. Nothing a refused
    /// one-shot decrypt produced is released.
    static let decrypt: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        var reader = FuzzReader(input)
        let control = reader.byte()
        let chunk = Int(control & 0x3F) + 1
        let policy: CommitmentPolicy =
            control & 0x40 == 0 ? .requireEncryptRequireDecrypt : .requireEncryptAllowDecrypt
        let message = [UInt8](reader.rest())
        let client = EncryptionClient(commitmentPolicy: policy, maxEncryptedDataKeys: 8)
        let keyring = keyring

        let (oneShot, streamed) = FuzzCheck.blocking { () -> ([UInt8]?, [UInt8]?) in
            let oneShot = try? await client.decrypt(message, keyring: keyring).plaintext
            let chunks = stride(from: 0, to: message.count, by: chunk).map {
                Array(message[$0..<min($0 + chunk, message.count)])
            }
            var streamed: [UInt8]? = []
            do {
                for try await part in client.decryptStream(
                    Chunks(chunks: chunks),
                    materialsManager: DefaultMaterialsManager(keyring: keyring),
                    bufferLimit: 1 << 20
                ) {
                    streamed! += part
                }
            } catch {
                streamed = nil
            }
            return (oneShot, streamed)
        }
        FuzzCheck.require(
            oneShot == streamed,
            "one-shot and streaming decrypt disagree (one-shot \(oneShot.map { "\($0.count) bytes" } ?? "refused"), "
                + "streaming \(streamed.map { "\($0.count) bytes" } ?? "refused"), chunk \(chunk))"
        )
    }
}

/// A message delivered in fixed chunks, as a network would.
private struct Chunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let chunks: [[UInt8]]

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: IndexingIterator<[[UInt8]]>
        mutating func next() async -> [UInt8]? { remaining.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: chunks.makeIterator()) }
}
