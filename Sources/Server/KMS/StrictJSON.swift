import NIOCore
import SealedEvents

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

        /// The problem the strict parser found.
        init(_ error: SealedEventsError) {
            reason = error.reason
            isDuplicateMember = error.reason.hasPrefix(JSONValue.duplicateKeyReason)
        }
    }

    /// Why `body` is not strict JSON, or `nil` when it is; an empty body is.
    static func problem(in body: ByteBuffer) -> Problem? {
        guard body.readableBytes > 0 else { return nil }
        do {
            _ = try JSONValue(parsing: body.readableBytesView)
            return nil
        } catch {
            return Problem(error)
        }
    }
}
