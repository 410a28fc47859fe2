/// How a streaming decrypt treats signed messages.
public struct StreamingDecryptMode: Hashable, Sendable {
    private enum Kind { case any, unsignedOnly }
    private let kind: Kind

    /// Decrypts unsigned and signed messages. A signed message's plaintext is held back until its
    /// signature verifies, so it must fit in the buffer limit.
    public static let any = StreamingDecryptMode(kind: .any)
    /// Refuses signed suites as soon as the header is read, and releases each frame's plaintext as
    /// soon as its tag verifies: constant memory for any message size (the answer to
    /// GHSA-h45p-w933-jxh3's "decrypt unsigned only").
    public static let unsignedOnly = StreamingDecryptMode(kind: .unsignedOnly)

    var allowsSigned: Bool { kind == .any }
}

extension EncryptionClient {
    /// The default bound on what a streaming decrypt holds in memory: 64 MiB.
    public static let defaultStreamingBufferLimit = 64 << 20

    /// Encrypts a stream of plaintext chunks into a stream of message chunks.
    ///
    /// The first output chunk is the header; then come the frames as input arrives, and the footer.
    /// Memory stays around one frame whatever the input size.
    ///
    /// - Parameter plaintextLength: the total plaintext length if known; without it a caching CMM
    ///   cannot account for bytes and is bypassed, as the ESDK specifies.
    public func encryptStream<Input: AsyncSequence & Sendable, CMM: CryptographicMaterialsManager>(
        _ input: Input,
        materialsManager: CMM,
        encryptionContext: EncryptionContext = [:],
        algorithmSuite: AlgorithmSuite? = nil,
        frameLength: Int = defaultFrameLength,
        plaintextLength: Int? = nil
    ) -> EncryptingStream<Input, CMM> where Input.Element == [UInt8] {
        EncryptingStream(
            input: input,
            client: self,
            materialsManager: materialsManager,
            encryptionContext: encryptionContext,
            algorithmSuite: algorithmSuite,
            frameLength: frameLength,
            plaintextLength: plaintextLength
        )
    }

    /// Decrypts a stream of message chunks into a stream of plaintext chunks.
    ///
    /// Unsigned messages release each frame's plaintext once its tag verifies. Signed messages
    /// release nothing until the footer's signature verifies (mode ``StreamingDecryptMode/any``), or
    /// are refused (``StreamingDecryptMode/unsignedOnly``). Truncation, extension or tampering ends
    /// the stream with ``EncryptionSDKError/authenticationFailure``; a consumer must discard what it
    /// received from an unsigned stream that ends in an error.
    ///
    /// - Parameter bufferLimit: the most bytes held at once: one frame, a non-framed body, or a
    ///   signed message's plaintext. Larger messages fail with `bufferLimitExceeded`.
    public func decryptStream<Input: AsyncSequence & Sendable, CMM: CryptographicMaterialsManager>(
        _ input: Input,
        materialsManager: CMM,
        encryptionContext: EncryptionContext = [:],
        mode: StreamingDecryptMode = .any,
        bufferLimit: Int = defaultStreamingBufferLimit
    ) -> DecryptingStream<Input, CMM> where Input.Element == [UInt8] {
        DecryptingStream(
            input: input,
            client: self,
            materialsManager: materialsManager,
            encryptionContext: encryptionContext,
            mode: mode,
            bufferLimit: bufferLimit
        )
    }
}

/// A growable byte queue: append at the end, consume from the front, compacting now and then.
struct ByteQueue {
    private(set) var storage: [UInt8] = []
    private var start = 0

    var count: Int { storage.count - start }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        if start > 0, start >= storage.count / 2 {
            storage.removeFirst(start)
            start = 0
        }
        storage.append(contentsOf: bytes)
    }

    mutating func consume(_ n: Int) { start += n }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }
}

/// The output of ``EncryptionClient/encryptStream(_:materialsManager:encryptionContext:algorithmSuite:frameLength:plaintextLength:)``.
public struct EncryptingStream<Input: AsyncSequence & Sendable, CMM: CryptographicMaterialsManager>: AsyncSequence,
    Sendable
where Input.Element == [UInt8] {
    public typealias Element = [UInt8]
    let input: Input
    let client: EncryptionClient
    let materialsManager: CMM
    let encryptionContext: EncryptionContext
    let algorithmSuite: AlgorithmSuite?
    let frameLength: Int
    let plaintextLength: Int?

    public func makeAsyncIterator() -> Iterator { Iterator(stream: self, input: input.makeAsyncIterator()) }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: EncryptingStream
        var input: Input.AsyncIterator
        var encoder: MessageEncoder?
        var pending = ByteQueue()
        var finished = false

        public mutating func next() async throws -> [UInt8]? {
            guard !finished else { return nil }
            guard var encoder else {
                var encoder = try await stream.client.makeEncoder(
                    materialsManager: stream.materialsManager,
                    encryptionContext: stream.encryptionContext,
                    algorithmSuite: stream.algorithmSuite,
                    frameLength: stream.frameLength,
                    plaintextLength: stream.plaintextLength
                )
                var out: [UInt8] = []
                encoder.writeHeader(to: &out)
                self.encoder = encoder
                return out
            }
            let frameLength = stream.frameLength
            // A frame is regular only once more plaintext follows it; keep the last one pending.
            while pending.count <= frameLength, let chunk = try await input.next(isolation: #isolation) {
                pending.append(chunk)
            }
            var out: [UInt8] = []
            do {
                if pending.count > frameLength {
                    while pending.count > frameLength {
                        try pending.withUnsafeBytes {
                            try encoder.writeFrame(
                                UnsafeRawBufferPointer(rebasing: $0[..<frameLength]),
                                final: false,
                                to: &out
                            )
                        }
                        pending.consume(frameLength)
                    }
                } else {
                    try pending.withUnsafeBytes { try encoder.writeFrame($0, final: true, to: &out) }
                    pending.consume(pending.count)
                    try encoder.writeFooter(to: &out)
                    finished = true
                }
            } catch {
                finished = true
                throw error
            }
            self.encoder = encoder
            return out
        }
    }
}

/// The output of ``EncryptionClient/decryptStream(_:materialsManager:encryptionContext:mode:bufferLimit:)``.
public struct DecryptingStream<Input: AsyncSequence & Sendable, CMM: CryptographicMaterialsManager>: AsyncSequence,
    Sendable
where Input.Element == [UInt8] {
    public typealias Element = [UInt8]
    let input: Input
    let client: EncryptionClient
    let materialsManager: CMM
    let encryptionContext: EncryptionContext
    let mode: StreamingDecryptMode
    let bufferLimit: Int

    public func makeAsyncIterator() -> Iterator { Iterator(stream: self, input: input.makeAsyncIterator()) }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: DecryptingStream
        var input: Input.AsyncIterator
        var decoder: MessageDecoder?
        var pending = ByteQueue()
        var heldBack: [UInt8] = []
        var finished = false

        public mutating func next() async throws -> [UInt8]? {
            guard !finished else { return nil }
            do {
                return try await step()
            } catch {
                finished = true
                heldBack = []
                throw error
            }
        }

        private mutating func step() async throws -> [UInt8]? {
            if decoder == nil { try await readHeader() }
            guard var decoder else { return nil }
            while true {
                var plaintext: [UInt8] = []
                let consumed = try pending.withUnsafeBytes { try decoder.decode($0, into: &plaintext) }
                pending.consume(consumed)
                self.decoder = decoder
                if decoder.isComplete {
                    guard pending.isEmpty, try await input.next(isolation: #isolation) == nil else {
                        throw EncryptionSDKError.authenticationFailure
                    }
                    finished = true
                    if decoder.isSigned {
                        heldBack.append(contentsOf: plaintext)
                        defer { heldBack = [] }
                        return heldBack
                    }
                    return plaintext
                }
                if decoder.isSigned {
                    heldBack.append(contentsOf: plaintext)
                    try checkLimit(heldBack.count, "a signed message's plaintext", slack: 0)
                } else if !plaintext.isEmpty {
                    return plaintext
                }
                guard let chunk = try await input.next(isolation: #isolation) else {
                    throw EncryptionSDKError.authenticationFailure
                }
                pending.append(chunk)
                try checkLimit(pending.count, "buffered ciphertext")
            }
        }

        private mutating func readHeader() async throws {
            while true {
                let parsed = try pending.withUnsafeBytes { bytes in
                    try MessageHeader.parse(bytes, maxEncryptedDataKeys: stream.client.maxEncryptedDataKeys)
                }
                if let (header, length) = parsed {
                    pending.consume(length)
                    if header.algorithmSuite.signature != nil, !stream.mode.allowsSigned {
                        throw EncryptionSDKError(
                            .invalidArgument,
                            "the message uses signed suite \(header.algorithmSuite), refused in unsigned-only mode"
                        )
                    }
                    decoder = try await stream.client.makeDecoder(
                        header: header,
                        materialsManager: stream.materialsManager,
                        encryptionContext: stream.encryptionContext,
                        bufferLimit: stream.bufferLimit
                    )
                    return
                }
                guard let chunk = try await input.next(isolation: #isolation) else {
                    throw EncryptionSDKError.malformed("the message ends inside its header")
                }
                pending.append(chunk)
                // A header holds at most 65535 encrypted data keys of 3 × 65535 bytes, but no real one
                // comes near the buffer limit.
                try checkLimit(pending.count, "the message header")
            }
        }

        /// - Parameter slack: how far `count` may pass the limit; buffered ciphertext may exceed a frame
        ///   by its framing overhead and part of one input chunk.
        private func checkLimit(_ count: Int, _ what: String, slack: Int = 1 << 20) throws {
            guard count <= stream.bufferLimit + slack else {
                throw EncryptionSDKError(
                    .bufferLimitExceeded,
                    "\(what) exceeds the streaming buffer limit \(stream.bufferLimit)"
                )
            }
        }
    }
}
