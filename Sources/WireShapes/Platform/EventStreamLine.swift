import SealedSupport

/// One line of the answer of `POST /v1/topics/{topic}/events:stream`: newline-delimited JSON, one line per event of
/// the request (in the request's order), then, when the server ends the stream early, one last ``ended(code:message:)``
/// line.
///
/// | line | meaning |
/// | --- | --- |
/// | `{"EventId":"…","Offset":n}` | the event is stored durably at offset `n` (its earlier offset for a repeated id) |
/// | `{"EventId":"…","Error":{"Code":"EventNotSealed","Message":"…"}}` | the event was refused, by the rule `Code` |
/// | `{"StreamError":{"Code":"BusUnavailable","Message":"…"}}` | the stream ends here; later events got no answer |
///
/// A refused line that is not JSON, or that is too long to read, has no `EventId`.
public enum EventStreamLine: Sendable, Hashable {
    /// The event is stored at `offset`.
    case stored(eventId: String, offset: UInt64)
    /// The event was refused: `code` names the governance rule (`MalformedEnvelope`, `EventTooLarge`, …).
    case refused(eventId: String?, code: String, message: String)
    /// The server ended the stream (`BusUnavailable`, `InternalFailure`, `IdleTimeout`, …); no line follows.
    case ended(code: String, message: String)

    /// The line, with its terminating newline.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    /// Appends the line and its newline to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .stored(let eventId, let offset):
            out.append(contentsOf: #"{"EventId":"#.utf8)
            JSONWriter.writeString(eventId, to: &out)
            out.append(contentsOf: #","Offset":"#.utf8)
            out.append(contentsOf: String(offset).utf8)
            out.append(UInt8(ascii: "}"))
        case .refused(let eventId, let code, let message):
            out.append(UInt8(ascii: "{"))
            if let eventId {
                out.append(contentsOf: #""EventId":"#.utf8)
                JSONWriter.writeString(eventId, to: &out)
                out.append(UInt8(ascii: ","))
            }
            out.append(contentsOf: #""Error":"#.utf8)
            Self.writeError(code: code, message: message, to: &out)
            out.append(UInt8(ascii: "}"))
        case .ended(let code, let message):
            out.append(contentsOf: #"{"StreamError":"#.utf8)
            Self.writeError(code: code, message: message, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "\n"))
    }

    private static func writeError(code: String, message: String, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"Code":"#.utf8)
        JSONWriter.writeString(code, to: &out)
        out.append(contentsOf: #","Message":"#.utf8)
        JSONWriter.writeString(message, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Reads one line (without its newline).
    ///
    /// - Throws: ``PlatformError`` `MalformedResponse` for a line that is none of the three shapes.
    public init(parsing line: some Collection<UInt8>) throws(PlatformError) {
        let malformed = PlatformError(
            code: "MalformedResponse",
            message: "the stream answered a line that is not an acknowledgement",
            statusCode: 200
        )
        guard let value = try? JSONParser.parse(line), case .object(let object) = value else { throw malformed }
        func error(_ value: JSONValue?) -> (String, String)? {
            guard let code = value?["Code"]?.stringValue, let message = value?["Message"]?.stringValue else {
                return nil
            }
            return (code, message)
        }
        if let (code, message) = error(object["StreamError"]) {
            self = .ended(code: code, message: message)
            return
        }
        let eventId = object["EventId"]?.stringValue
        if let (code, message) = error(object["Error"]) {
            self = .refused(eventId: eventId, code: code, message: message)
        } else if let eventId, let literal = object["Offset"]?.numberValue?.literal, let offset = UInt64(literal) {
            self = .stored(eventId: eventId, offset: offset)
        } else {
            throw malformed
        }
    }
}
