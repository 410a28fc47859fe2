internal import SealedSupport

/// A CloudEvents 1.0 event in structured mode (the JSON event format), with its attributes in order.
///
/// ``Envelope/cloudEvent()`` and ``Envelope/init(cloudEvent:)`` map an envelope to and from this form:
///
/// | envelope | CloudEvent attribute |
/// | --- | --- |
/// | `metaData.eventId` | `id` |
/// | `metaData.source` | `source` |
/// | `metaData.eventType` | `type` |
/// | `metaData.time` | `time` |
/// | `metaData.domain` | extension `domain` |
/// | `metaData.classification` | extension `dataclassification` |
/// | `metaData.regulations` | extension `dataregulation`: the names joined by `,` |
/// | `metaData.encryption` | extension `sealedencryption`: the block as compact JSON text |
/// | other `metaData` members | extension `sealedmetadata`: a JSON object as compact text |
/// | other top-level members | extension `sealedenvelope`: a JSON object as compact text |
/// | `data`, sealed whole (scope `data`) | `data_base64` (the ESDK message), `datacontenttype` `application/vnd.aws-esdk` |
/// | `data` otherwise | `data`, `datacontenttype` `application/json` |
///
/// CloudEvents extension attributes must be lowercase alphanumeric and hold scalar values, so the encryption block
/// travels as one string attribute holding JSON rather than as nested attributes. Going back, any other extension
/// attribute becomes a `metaData` member of that name (after those of `sealedmetadata`); `datacontenttype`,
/// `dataschema` and `subject` are not kept.
public struct CloudEvent: Sendable, Hashable {
    /// Always `1.0`.
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var time: String?
    public var datacontenttype: String?
    public var dataschema: String?
    public var subject: String?
    /// Extension attributes, in order.
    public var extensions: JSONObject
    /// The data as JSON (`data`), or `nil`.
    public var data: JSONValue?
    /// The data as base64 (`data_base64`), or `nil`.
    public var dataBase64: String?

    public init(
        id: String,
        source: String,
        type: String,
        time: String? = nil,
        datacontenttype: String? = nil,
        dataschema: String? = nil,
        subject: String? = nil,
        extensions: JSONObject = [:],
        data: JSONValue? = nil,
        dataBase64: String? = nil
    ) {
        self.specversion = "1.0"
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self.subject = subject
        self.extensions = extensions
        self.data = data
        self.dataBase64 = dataBase64
    }

    static let contextAttributes: Set<String> = [
        "specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "subject", "data",
        "data_base64",
    ]

    /// Whether `name` is a valid extension attribute name: lowercase letters and digits, not a context attribute.
    public static func isValidExtensionName(_ name: String) -> Bool {
        !name.isEmpty && !contextAttributes.contains(name)
            && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
    }

    /// Decodes a structured-mode CloudEvent.
    ///
    /// - Throws: ``SealedEventsError`` `invalidJSON`, or `malformedEnvelope` (a missing or mistyped required
    ///   attribute, `specversion` other than `1.0`, both `data` and `data_base64`, an invalid extension name).
    public init(json bytes: some Collection<UInt8>) throws(SealedEventsError) {
        try self.init(jsonValue: try JSONValue(parsing: bytes))
    }

    /// Decodes a structured-mode CloudEvent from a parsed JSON value.
    public init(jsonValue: JSONValue) throws(SealedEventsError) {
        guard var object = jsonValue.objectValue else { throw .malformed("a CloudEvent must be a JSON object") }
        let place = "CloudEvent"
        let version = try object.takeString("specversion", in: place)
        guard version == "1.0" else { throw .malformed("CloudEvents specversion \"\(version)\" is not 1.0") }
        self.init(
            id: try object.takeString("id", in: place),
            source: try object.takeString("source", in: place),
            type: try object.takeString("type", in: place)
        )
        guard !id.isEmpty, !source.isEmpty, !type.isEmpty else {
            throw .malformed("CloudEvent id, source and type must not be empty")
        }
        time = try object.takeOptionalString("time", in: place)
        datacontenttype = try object.takeOptionalString("datacontenttype", in: place)
        dataschema = try object.takeOptionalString("dataschema", in: place)
        subject = try object.takeOptionalString("subject", in: place)
        data = object.removeValue(forKey: "data")
        dataBase64 = try object.takeOptionalString("data_base64", in: place)
        guard data == nil || dataBase64 == nil else { throw .malformed("a CloudEvent has both data and data_base64") }
        for member in object {
            guard Self.isValidExtensionName(member.key) else {
                throw .malformed("\"\(member.key)\" is not a valid CloudEvents extension attribute name")
            }
            switch member.value {
            case .string, .bool, .number: break
            default: throw .malformed("CloudEvents extension \(member.key) must be a string, Boolean or integer")
            }
        }
        extensions = object
    }

    /// The event in the JSON event format: context attributes, extensions, then `data` or `data_base64`.
    public var jsonValue: JSONValue {
        var object: JSONObject = [
            "specversion": .string(specversion), "id": .string(id), "source": .string(source), "type": .string(type),
        ]
        if let time { object["time"] = .string(time) }
        if let datacontenttype { object["datacontenttype"] = .string(datacontenttype) }
        if let dataschema { object["dataschema"] = .string(dataschema) }
        if let subject { object["subject"] = .string(subject) }
        for member in extensions where object[member.key] == nil { object[member.key] = member.value }
        if let data { object["data"] = data }
        if let dataBase64 { object["data_base64"] = .string(dataBase64) }
        return .object(object)
    }

    /// The event as compact JSON, UTF-8.
    public func serialized() -> [UInt8] { jsonValue.serialized() }
}

extension Envelope {
    /// The content type of `data_base64` when the whole data is sealed: one ESDK message.
    public static let esdkContentType = "application/vnd.aws-esdk"

    /// The envelope as a CloudEvents 1.0 structured event; see ``CloudEvent`` for the mapping.
    ///
    /// - Throws: ``SealedEventsError`` `invalidArgument` when a regulation name contains `,` (the attribute
    ///   joins them with commas).
    public func cloudEvent() throws(SealedEventsError) -> CloudEvent {
        var event = CloudEvent(
            id: metaData.eventId,
            source: metaData.source,
            type: metaData.eventType,
            time: metaData.time
        )
        event.extensions["domain"] = .string(metaData.domain)
        if let classification = metaData.classification {
            event.extensions["dataclassification"] = .string(classification.rawValue)
        }
        if let regulations = metaData.regulations {
            guard !regulations.contains(where: { $0.contains(",") || $0.isEmpty }) else {
                throw .invalidArgument("a regulation name is empty or contains ',', which CloudEvents cannot carry")
            }
            event.extensions["dataregulation"] = .string(regulations.joined(separator: ","))
        }
        if let encryption = metaData.encryption {
            event.extensions["sealedencryption"] = .string(encryption.jsonValue.jsonString())
        }
        if !metaData.additionalMembers.isEmpty {
            event.extensions["sealedmetadata"] = .string(JSONValue.object(metaData.additionalMembers).jsonString())
        }
        if !additionalMembers.isEmpty {
            event.extensions["sealedenvelope"] = .string(JSONValue.object(additionalMembers).jsonString())
        }
        if metaData.encryption?.scope == .data, let base64 = data.stringValue {
            event.datacontenttype = Self.esdkContentType
            event.dataBase64 = base64
        } else {
            event.datacontenttype = "application/json"
            event.data = data
        }
        return event
    }

    /// An envelope from a CloudEvents 1.0 event; see ``CloudEvent`` for the mapping.
    ///
    /// - Throws: ``SealedEventsError`` `malformedEnvelope` (no `domain` extension, an unknown classification,
    ///   extension JSON that does not parse or has the wrong shape).
    public init(cloudEvent event: CloudEvent) throws(SealedEventsError) {
        var extensions = event.extensions
        guard let domain = extensions.removeValue(forKey: "domain")?.stringValue, !domain.isEmpty else {
            throw .malformed("the CloudEvent has no domain extension")
        }
        var metaData = MetaData(
            eventId: event.id,
            eventType: event.type,
            domain: domain,
            source: event.source,
            time: event.time
        )
        if let value = extensions.removeValue(forKey: "dataclassification") {
            guard let text = value.stringValue, let classification = Classification(rawValue: text) else {
                throw .malformed("the CloudEvent's dataclassification is not a known classification")
            }
            metaData.classification = classification
        }
        if let value = extensions.removeValue(forKey: "dataregulation") {
            guard let text = value.stringValue else { throw .malformed("dataregulation must be a string") }
            metaData.regulations =
                text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        if let value = extensions.removeValue(forKey: "sealedencryption") {
            metaData.encryption = try Encryption(jsonValue: try Self.embeddedJSON(value, name: "sealedencryption"))
        }
        var additional = JSONObject()
        if let value = extensions.removeValue(forKey: "sealedmetadata") {
            guard let object = try Self.embeddedJSON(value, name: "sealedmetadata").objectValue else {
                throw .malformed("sealedmetadata must hold a JSON object")
            }
            additional = object
        }
        var envelopeMembers = JSONObject()
        if let value = extensions.removeValue(forKey: "sealedenvelope") {
            guard let object = try Self.embeddedJSON(value, name: "sealedenvelope").objectValue else {
                throw .malformed("sealedenvelope must hold a JSON object")
            }
            envelopeMembers = object
        }
        for member in extensions where additional[member.key] == nil { additional[member.key] = member.value }
        metaData.additionalMembers = additional
        let data: JSONValue = event.dataBase64.map(JSONValue.string) ?? event.data ?? .null
        self.init(metaData: metaData, data: data, additionalMembers: envelopeMembers)
    }

    private static func embeddedJSON(_ value: JSONValue, name: String) throws(SealedEventsError) -> JSONValue {
        guard let text = value.stringValue else { throw .malformed("the \(name) extension must be a string") }
        do throws(SealedEventsError) {
            return try JSONValue(parsing: text)
        } catch {
            throw .malformed("the \(name) extension is not JSON: \(error.reason)")
        }
    }
}
