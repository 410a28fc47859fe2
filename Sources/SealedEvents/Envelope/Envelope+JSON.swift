internal import SealedSupport

extension Envelope {
    /// Decodes an envelope from JSON text.
    ///
    /// - Throws: ``SealedEventsError`` `invalidJSON`, or `malformedEnvelope` when a required member is missing
    ///   or has the wrong type.
    public init(json bytes: some Collection<UInt8>) throws(SealedEventsError) {
        try self.init(jsonValue: try JSONValue(parsing: bytes))
    }

    /// Decodes an envelope from JSON text.
    public init(json text: String) throws(SealedEventsError) {
        try self.init(json: Array(text.utf8))
    }

    /// Decodes an envelope from a parsed JSON value.
    ///
    /// - Throws: ``SealedEventsError`` `malformedEnvelope`.
    public init(jsonValue: JSONValue) throws(SealedEventsError) {
        guard var object = jsonValue.objectValue else { throw .malformed("an envelope must be a JSON object") }
        guard let metaData = object.removeValue(forKey: "metaData") else { throw .malformed("missing metaData") }
        guard let data = object.removeValue(forKey: "data") else { throw .malformed("missing data") }
        self.init(metaData: try MetaData(jsonValue: metaData), data: data, additionalMembers: object)
    }

    /// The envelope as a JSON value: `metaData`, `data`, then the additional members.
    public var jsonValue: JSONValue {
        var object: JSONObject = ["metaData": metaData.jsonValue, "data": data]
        for member in additionalMembers where object[member.key] == nil { object[member.key] = member.value }
        return .object(object)
    }

    /// The envelope as compact JSON, UTF-8.
    public func serialized() -> [UInt8] { jsonValue.serialized() }

    /// The envelope as JSON text.
    public func jsonString(pretty: Bool = false) -> String { jsonValue.jsonString(pretty: pretty) }
}

extension MetaData {
    /// Decodes `metaData` from a parsed JSON value.
    ///
    /// - Throws: ``SealedEventsError`` `malformedEnvelope`.
    public init(jsonValue: JSONValue) throws(SealedEventsError) {
        guard var object = jsonValue.objectValue else { throw .malformed("metaData must be a JSON object") }
        let eventId = try object.takeString("eventId", in: "metaData")
        let eventType = try object.takeString("eventType", in: "metaData")
        let domain = try object.takeString("domain", in: "metaData")
        let source = try object.takeString("source", in: "metaData")
        let time = try object.takeOptionalString("time", in: "metaData")
        var classification: Classification?
        if let text = try object.takeOptionalString("classification", in: "metaData") {
            guard let value = Classification(rawValue: text) else {
                throw .malformed(
                    "metaData.classification \"\(text)\" is not public, internal, confidential or restricted"
                )
            }
            classification = value
        }
        var regulations: [String]?
        if let value = object.removeValue(forKey: "regulations") {
            guard let elements = value.arrayValue else { throw .malformed("metaData.regulations must be an array") }
            regulations = try elements.map { (element: JSONValue) throws(SealedEventsError) -> String in
                guard let text = element.stringValue else {
                    throw .malformed("metaData.regulations must hold strings")
                }
                return text
            }
        }
        var encryption: Encryption?
        if let value = object.removeValue(forKey: "encryption") {
            encryption = try Encryption(jsonValue: value)
        }
        for (name, value) in [("eventId", eventId), ("eventType", eventType), ("domain", domain)] where value.isEmpty {
            throw .malformed("metaData.\(name) is empty")
        }
        self.init(
            eventId: eventId,
            eventType: eventType,
            domain: domain,
            source: source,
            time: time,
            classification: classification,
            regulations: regulations,
            encryption: encryption,
            additionalMembers: object
        )
    }

    /// `metaData` as a JSON value: the known members in a fixed order, then the additional members.
    public var jsonValue: JSONValue {
        var object: JSONObject = [
            "eventId": .string(eventId), "eventType": .string(eventType), "domain": .string(domain),
            "source": .string(source),
        ]
        if let time { object["time"] = .string(time) }
        if let classification { object["classification"] = .string(classification.rawValue) }
        if let regulations { object["regulations"] = .array(regulations.map(JSONValue.string)) }
        if let encryption { object["encryption"] = encryption.jsonValue }
        for member in additionalMembers where object[member.key] == nil { object[member.key] = member.value }
        return .object(object)
    }
}

extension Encryption {
    /// Decodes `metaData.encryption` from a parsed JSON value.
    ///
    /// - Throws: ``SealedEventsError`` `malformedEnvelope`.
    public init(jsonValue: JSONValue) throws(SealedEventsError) {
        let place = "metaData.encryption"
        guard var object = jsonValue.objectValue else { throw .malformed("\(place) must be a JSON object") }
        let keyArn = try object.takeString("keyArn", in: place)
        let format = try object.takeString("format", in: place)
        let suite = try object.takeString("algorithmSuite", in: place)
        let scope = Scope(rawValue: try object.takeString("scope", in: place))
        guard let contextValue = object.removeValue(forKey: "encryptionContext"),
            let contextObject = contextValue.objectValue
        else { throw .malformed("\(place).encryptionContext must be a JSON object") }
        var context: [String: String] = [:]
        for member in contextObject {
            guard let value = member.value.stringValue else {
                throw .malformed("\(place).encryptionContext values must be strings")
            }
            guard context.updateValue(value, forKey: member.key) == nil else {
                throw .malformed("\(place).encryptionContext holds a key twice")
            }
        }
        var sealedFields: [JSONPointer]?
        if let value = object.removeValue(forKey: "sealedFields") {
            guard let elements = value.arrayValue else { throw .malformed("\(place).sealedFields must be an array") }
            sealedFields = try elements.map { (element: JSONValue) throws(SealedEventsError) -> JSONPointer in
                guard let text = element.stringValue else {
                    throw .malformed("\(place).sealedFields must hold JSON Pointer strings")
                }
                do throws(SealedEventsError) {
                    return try JSONPointer(text)
                } catch {
                    throw .malformed("\(place).sealedFields: \(error.reason)")
                }
            }
        }
        let ciphertext = try object.takeOptionalString("ciphertext", in: place)
        self.init(
            keyArn: keyArn,
            format: format,
            algorithmSuite: suite,
            scope: scope,
            encryptionContext: context,
            sealedFields: sealedFields,
            ciphertext: ciphertext,
            additionalMembers: object
        )
    }

    /// The block as a JSON value: known members in a fixed order (the context sorted by key), then the additional
    /// members.
    public var jsonValue: JSONValue {
        var object: JSONObject = [
            "keyArn": .string(keyArn), "format": .string(format), "algorithmSuite": .string(algorithmSuite),
            "scope": .string(scope.rawValue),
        ]
        let context = encryptionContext.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        object["encryptionContext"] = .object(JSONObject(context.map { .init(key: $0.key, value: .string($0.value)) }))
        if let sealedFields { object["sealedFields"] = .array(sealedFields.map { .string($0.description) }) }
        if let ciphertext { object["ciphertext"] = .string(ciphertext) }
        for member in additionalMembers where object[member.key] == nil { object[member.key] = member.value }
        return .object(object)
    }
}

extension JSONObject {
    mutating func takeString(_ key: String, in place: String) throws(SealedEventsError) -> String {
        guard let value = removeValue(forKey: key) else { throw .malformed("missing \(place).\(key)") }
        guard let text = value.stringValue else { throw .malformed("\(place).\(key) must be a string") }
        return text
    }

    mutating func takeOptionalString(_ key: String, in place: String) throws(SealedEventsError) -> String? {
        guard let value = removeValue(forKey: key) else { return nil }
        guard let text = value.stringValue else { throw .malformed("\(place).\(key) must be a string") }
        return text
    }
}
