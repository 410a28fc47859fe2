import NIOCore
import SealedEvents
import SealedSupport

/// The strict reading every JSON request body gets before its handler decodes it.
///
/// Foundation's `JSONDecoder` keeps one of two members of the same name without a word, while the audit trail's
/// parser refuses such an object: the record of a request would not show the value the handler used. So a body
/// that names a member twice, at any depth, or that is not RFC 8259 JSON, is refused before anything reads it,
/// by the strict parser of ``SealedEvents/JSONValue`` (the one the bus reads envelopes with).
enum StrictJSON {
    /// Why a body was refused; `reason` names the byte offset of the problem, never a value.
    struct Problem: Error {
        var reason: String
        /// Whether an object names the same member twice (else the text is not JSON).
        var isDuplicateMember: Bool
    }

    /// Why `body` is not strict JSON, or `nil` when it is; an empty body is.
    static func problem(in body: ByteBuffer) -> Problem? {
        guard body.readableBytes > 0 else { return nil }
        do {
            _ = try JSONParser.parse(body.readableBytesView, options: JSONValue.parseOptions)
            return nil
        } catch {
            return Problem(reason: SealedEventsError(json: error).reason, isDuplicateMember: error.isDuplicateMember)
        }
    }
}
