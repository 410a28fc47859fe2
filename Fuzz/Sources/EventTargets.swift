import AuditTrail
import SealedEvents
import SealedSupport
import WireShapes

/// The event envelope and its CloudEvents mapping, and the lines of the streaming publish route.
enum EventTargets {
    /// An envelope read from JSON writes back to JSON that reads to the same envelope; its CloudEvent, when it has one,
    /// reads back to the same envelope. A CloudEvent read from JSON round-trips the same way.
    static let envelope: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        let bytes = [UInt8](input)
        if let envelope = try? Envelope(json: bytes) {
            guard let again = try? Envelope(json: envelope.serialized()) else {
                FuzzCheck.fail("a serialized envelope does not read back")
            }
            FuzzCheck.require(again == envelope, "an envelope written and read back changed")
            if let event = try? envelope.cloudEvent() {
                guard let back = try? Envelope(cloudEvent: event) else {
                    FuzzCheck.fail("an envelope's CloudEvent does not map back to an envelope")
                }
                FuzzCheck.require(back == envelope, "envelope → CloudEvent → envelope changed the envelope")
            }
        }
        if let event = try? CloudEvent(json: bytes) {
            guard let again = try? CloudEvent(json: event.serialized()) else {
                FuzzCheck.fail("a serialized CloudEvent does not read back")
            }
            FuzzCheck.require(again == event, "a CloudEvent written and read back changed")
            _ = try? Envelope(cloudEvent: event)
        }
    }

    /// A line of `events:stream` reads to an acknowledgement or a typed refusal; one read writes back to itself.
    static let streamLine: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        guard let line = try? EventStreamLine(parsing: input) else { return }
        let written = line.serialized()
        guard let again = try? EventStreamLine(parsing: written.dropLast()) else {
            FuzzCheck.fail("a serialized stream line does not read back")
        }
        FuzzCheck.require(again == line, "a stream line written and read back changed")
    }
}

/// Audit records as exports carry them: parsed, a record's JSON form reads back to the same record.
enum AuditTargets {
    static let record: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        guard let value = try? CanonicalJSON.parse(input), let record = try? Record(jsonValue: value) else { return }
        let written = CanonicalJSON.encode(record.jsonValue)
        guard let again = try? Record(jsonValue: CanonicalJSON.parse(written)) else {
            FuzzCheck.fail("a record's canonical JSON does not read back")
        }
        FuzzCheck.require(again == record, "a record written and read back changed")
    }
}

/// Base64 (every blob on the KMS wire) and JSON Pointer (the sealed fields of an event type).
enum EncodingTargets {
    /// Decoding refuses or gives bytes that encode back to the input (the decoder is canonical); any bytes encode
    /// and decode back to themselves.
    static let base64: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        let text = String(decoding: input, as: UTF8.self)
        if let bytes = try? Base64.decode(text) {
            FuzzCheck.require(Base64.encode(bytes) == text, "a decoded base64 text encodes to another text")
        }
        let bytes = [UInt8](input)
        FuzzCheck.require((try? Base64.decode(Base64.encode(bytes))) == bytes, "bytes do not survive base64")
    }

    /// Input: a pointer's text, NUL, a JSON document. A parsed pointer writes back to its text; looking it up in the
    /// document finds a value or refuses with a typed error.
    static let jsonPointer: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        var reader = FuzzReader(input)
        let text = reader.text()
        guard let pointer = try? JSONPointer(text) else { return }
        FuzzCheck.require(pointer.description == text, "a pointer writes back to another text")
        FuzzCheck.require((try? JSONPointer(pointer.description)) == pointer, "a pointer's text reads to another")
        guard let document = try? JSONValue(parsing: reader.rest()) else { return }
        if let found = try? document.value(at: pointer) {
            var rebuilt = document
            _ = try? rebuilt.setValue(found, at: pointer)
            FuzzCheck.require(rebuilt == document, "setting a found value where it was changed the document")
        }
    }
}
