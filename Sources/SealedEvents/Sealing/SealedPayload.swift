internal import SealedSupport

/// The plaintext inside a sealed event's ESDK message (`docs/sealed-events-format.md` §3).
///
/// Scope `data`:   `{"v":1,"eventId":"…","data":<the data>}`
/// Scope `fields`: `{"v":1,"eventId":"…","fields":[{"pointer":"/card/number","value":<value>},…]}`
///
/// Written as compact JSON with members in exactly this order; read strictly (no other members, `v` exactly
/// `1`). The event id and the pointers are what bind the payload to its envelope.
enum SealedPayload {
    static let version = JSONNumber(1)

    enum Content {
        case data(JSONValue)
        case fields([(pointer: JSONPointer, value: JSONValue)])
    }

    /// Writes the payload straight into bytes: the same bytes as serializing the object above with
    /// ``JSONValue/serialized()``, without building it.
    static func encode(eventId: String, content: Content) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"v":"#.utf8)
        out.append(contentsOf: version.literal.utf8)
        out.append(contentsOf: #","eventId":"#.utf8)
        JSONWriter.writeString(eventId, to: &out)
        switch content {
        case .data(let data):
            out.append(contentsOf: #","data":"#.utf8)
            JSONWriter.write(data, to: &out, indent: nil, level: 0)
        case .fields(let fields):
            out.append(contentsOf: #","fields":["#.utf8)
            for (position, field) in fields.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"pointer":"#.utf8)
                JSONWriter.writeString(field.pointer.description, to: &out)
                out.append(contentsOf: #","value":"#.utf8)
                JSONWriter.write(field.value, to: &out, indent: nil, level: 0)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads a payload. The errors never quote the plaintext.
    static func decode(_ plaintext: [UInt8]) throws(SealedEventsError) -> (eventId: String, content: Content) {
        let invalid = SealedEventsError.binding("the sealed payload is not a version 1 Sealed Events payload")
        guard let value = try? JSONValue(parsing: plaintext), let object = value.objectValue, object.count == 3,
            object.members[0].key == "v", object.members[1].key == "eventId",
            let eventId = object.members[1].value.stringValue
        else { throw invalid }
        guard object.members[0].value == .number(version) else {
            throw SealedEventsError(.unsupportedFormat, "the sealed payload has an unknown version")
        }
        let member = object.members[2]
        switch member.key {
        case "data":
            return (eventId, .data(member.value))
        case "fields":
            guard let elements = member.value.arrayValue else { throw invalid }
            var fields: [(pointer: JSONPointer, value: JSONValue)] = []
            fields.reserveCapacity(elements.count)
            for element in elements {
                guard let field = element.objectValue, field.count == 2, field.members[0].key == "pointer",
                    field.members[1].key == "value", let text = field.members[0].value.stringValue,
                    let pointer = try? JSONPointer(text)
                else { throw invalid }
                fields.append((pointer, field.members[1].value))
            }
            return (eventId, .fields(fields))
        default:
            throw invalid
        }
    }
}
