import NIOCore
import WireShapes

@testable import NATS

/// The STS query protocol's form bodies, as the server reads them.
enum STSTargets {
    /// Any body reads to fields and to a request or a typed STS error. Fields the client encodes read back exactly.
    static let query: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        let fields = STSForm.decode(input)
        do {
            let request = try STSQueryRequest(fields: fields)
            let again = try? STSQueryRequest(fields: STSForm.decode(Array(STSForm.encode(request.parameters).utf8)))
            FuzzCheck.require(again == request, "a request written by the client reads back differently")
        } catch let error as STSError {
            FuzzCheck.require(error.statusCode == 400, "an STS refusal is not a 400")
        } catch {
            FuzzCheck.fail("an STS refusal is not an STSError: \(error)")
        }
        // The input's NUL-separated fields as names and values: encoded, then decoded, they are the same.
        var reader = FuzzReader(input)
        var pairs: [(name: String, value: String)] = []
        while !reader.isEmpty { pairs.append((name: reader.text(), value: reader.text())) }
        let decoded = STSForm.decode(Array(STSForm.encode(pairs).utf8))
        let expected = Dictionary(pairs.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        FuzzCheck.require(decoded == expected, "encoded form fields decode to something else")
    }
}

/// The NATS client protocol decoder (what a server, or anyone on the path, sends the client).
enum NATSTargets {
    /// The first byte picks a chunk size; the rest is the stream. Read whole or in chunks, the stream gives the same
    /// operations and fails at the same point.
    static let decode: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        var reader = FuzzReader(input)
        let chunk = Int(reader.byte() % 32) + 1
        let stream = [UInt8](reader.rest())
        let whole = run(stream, chunk: stream.count + 1)
        let split = run(stream, chunk: chunk)
        FuzzCheck.require(whole == split, "the stream decodes differently in chunks of \(chunk)")
    }

    struct Outcome: Equatable {
        var operations: [ServerOp] = []
        var failed = false
    }

    /// Feeds the decoder `chunk` bytes at a time, taking every operation it completes.
    static func run(_ stream: [UInt8], chunk: Int) -> Outcome {
        var decoder = ProtocolDecoder(maxControlLine: 4096, maxPayload: 1 << 16)
        var buffer = ByteBuffer()
        var outcome = Outcome()
        var offset = 0
        repeat {
            let end = min(offset + chunk, stream.count)
            buffer.writeBytes(stream[offset..<end])
            offset = end
            do {
                while let operation = try decoder.decode(buffer: &buffer) { outcome.operations.append(operation) }
            } catch {
                outcome.failed = true
                return outcome
            }
        } while offset < stream.count
        return outcome
    }
}
