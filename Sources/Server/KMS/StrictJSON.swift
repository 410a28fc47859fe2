import NIOCore
import SealedEvents
import SealedSupport

/// The strict reading every JSON request body gets before its handler decodes it.
///
/// Foundation's `JSONDecoder` keeps one of two members of the same name without a word, while the audit trail's
/// parser refuses such an object: the record of a request would not show the value the handler used. So a body
/// that names a member twice, at any depth, or that is not RFC 8259 JSON, is refused before anything reads it,
/// by the package's one strict parser with the options of ``SealedEvents/JSONValue`` (the ones the bus reads
/// envelopes with).
enum StrictJSON {
    /// Why a body was refused.
    struct Problem: Error {
        /// The problem in the SDK's words (`invalidJSON`): a reason and its byte offset, never a value.
        let error: SealedEventsError
        /// Whether an object names the same member twice (else the text is not JSON).
        let isDuplicateMember: Bool

        var reason: String { error.reason }

        init(_ error: JSONSyntaxError) {
            self.error = SealedEventsError(json: error)
            isDuplicateMember = error.isDuplicateMember
        }
    }

    /// The value of `body`, or why it is not strict JSON (an empty body is not JSON either).
    static func parse(_ body: ByteBuffer) -> Result<JSONValue, Problem> {
        do {
            return .success(try JSONParser.parse(body.readableBytesView, options: JSONValue.parseOptions))
        } catch {
            return .failure(Problem(error))
        }
    }

    /// Why `body` is not strict JSON, or `nil` when it is; an empty body is.
    static func problem(in body: ByteBuffer) -> Problem? {
        guard body.readableBytes > 0, case .failure(let problem) = parse(body) else { return nil }
        return problem
    }
}
