import Hummingbird
import NIOCore
import SealedEvents
import Synchronization

/// A `/v1` request's body, read and parsed once, by its route's registration (see `RouterMethods.on(_:input:use:)`):
/// the input shape the handler gets, the bus's envelopes and the audit record's `requestParameters` all come from this
/// one parse, so the record shows the very values the handler used.
struct PlatformBody: Sendable {
    /// The body as its signature verified it.
    let bytes: ByteBuffer
    /// The body read by the strict parser (``StrictJSON``: no member named twice, RFC 8259 only), or why it is not
    /// strict JSON; `nil` for an empty body.
    let parsed: Result<JSONValue, StrictJSON.Problem>?

    init(_ bytes: ByteBuffer) {
        self.bytes = bytes
        guard bytes.readableBytes > 0 else {
            parsed = nil
            return
        }
        Self.parses?.count()
        parsed = StrictJSON.parse(bytes)
    }

    /// The value of a body that is strict JSON; `nil` for an empty or malformed one.
    var value: JSONValue? { try? parsed?.get() }

    /// Decodes a route's input shape; an empty body is `{}`. A body that is not strict JSON is a
    /// `SerializationException` (400), or a `ValidationException` when it names a member twice at any depth; a missing
    /// member is a `ValidationException`, a member of the wrong type a `SerializationException`.
    func decode<Input: Decodable>(_ type: Input.Type) throws -> Input {
        let value: JSONValue
        switch parsed {
        case nil: value = .object([:])
        case .success(let parsed): value = parsed
        case .failure(let problem):
            throw PlatformRequestError(
                code: problem.isDuplicateMember ? "ValidationException" : "SerializationException",
                message: "The request body is not valid JSON: \(problem.reason)."
            )
        }
        do {
            return try Input(from: JSONValueDecoder(value))
        } catch DecodingError.keyNotFound(let key, _) {
            throw PlatformRequestError(code: "ValidationException", message: "\(key.stringValue) is required.")
        } catch {
            throw PlatformRequestError(
                code: "SerializationException",
                message: "The request body is not valid JSON for this operation."
            )
        }
    }

    /// Counts the bodies parsed by the requests of the current task; a test hook (`nil`, costing nothing, otherwise).
    @TaskLocal static var parses: Counter?

    /// A count shared by the tasks of one test.
    final class Counter: Sendable {
        private let value = Mutex(0)

        init() {}

        func count() { value.withLock { $0 += 1 } }

        var total: Int { value.withLock { $0 } }
    }
}
