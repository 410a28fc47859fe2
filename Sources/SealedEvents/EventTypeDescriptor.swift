public import EncryptionSDK

/// The SDK's view of one event type of the platform's catalog: who owns it, how sensitive it is, and how its
/// events are sealed and opened.
///
/// A ``Sealer`` takes the key, the algorithm suite and the sealed part from it; an ``Opener`` checks an
/// envelope against it and, given base credentials, assumes its ``readerRoleArn``.
public struct EventTypeDescriptor: Sendable, Hashable {
    /// Which part of an event is sealed.
    public enum Sealing: Sendable, Hashable {
        /// Nothing: the event type's data is not sensitive.
        case none
        /// The whole `data` element (scope `data`).
        case data
        /// These fields (scope `fields`); none may be the root, and none may lie inside another.
        case fields([JSONPointer])
    }

    /// The event type's name, e.g. `payments.card.captured`.
    public var name: String
    /// The owning domain, e.g. `payments`.
    public var domain: String
    public var classification: Classification
    public var regulations: [String]
    /// The domain key's ARN (for raw keyrings: `raw:NAMESPACE/NAME`).
    public var keyArn: String
    /// 0x0578 (signed; the default) or 0x0478 (unsigned, for high-volume streams).
    public var algorithmSuite: AlgorithmSuite
    public var sealing: Sealing
    /// The role a consumer assumes to decrypt this event type; `nil` when the catalog has none.
    public var readerRoleArn: String?
    /// Where `data` holds the data subject's id, when events of this type are about a person: their sealed part is
    /// sealed under the subject's branch key. Always inside the sealed part.
    public var subjectField: JSONPointer?

    /// The suites events may use.
    public static let supportedSuites: [AlgorithmSuite] = [
        .aes256GCMHKDFSHA512CommittingECDSAP384, .aes256GCMHKDFSHA512Committing,
    ]

    public init(
        name: String,
        domain: String,
        classification: Classification,
        regulations: [String] = [],
        keyArn: String,
        algorithmSuite: AlgorithmSuite = .aes256GCMHKDFSHA512CommittingECDSAP384,
        sealing: Sealing,
        readerRoleArn: String? = nil,
        subjectField: JSONPointer? = nil
    ) {
        self.name = name
        self.domain = domain
        self.classification = classification
        self.regulations = regulations
        self.keyArn = keyArn
        self.algorithmSuite = algorithmSuite
        self.sealing = sealing
        self.readerRoleArn = readerRoleArn
        self.subjectField = subjectField
    }

    /// Checks what the SDK relies on: non-empty names and key, a supported suite, for field sealing at least one
    /// pointer, no root pointer, no duplicates, and no pointer inside another, and a subject field (not the root) in
    /// the sealed part.
    ///
    /// - Throws: ``SealedEventsError`` `invalidArgument` or `unsupportedAlgorithmSuite`.
    public func validate() throws(SealedEventsError) {
        guard !name.isEmpty, !domain.isEmpty else { throw .invalidArgument("an event type needs a name and a domain") }
        guard !keyArn.isEmpty else { throw .invalidArgument("event type \(name) has no key") }
        guard Self.supportedSuites.contains(algorithmSuite) else {
            throw SealedEventsError(
                .unsupportedAlgorithmSuite,
                "event type \(name) names suite \(algorithmSuite); events use 0x0478 or 0x0578"
            )
        }
        if case .fields(let pointers) = sealing { try Self.validateFieldPointers(pointers) }
        if let subjectField { try validate(subjectField: subjectField) }
    }

    /// A subject field is never the root and lies in the sealed part: the subject id must not travel in the clear.
    func validate(subjectField: JSONPointer) throws(SealedEventsError) {
        guard !subjectField.isRoot else { throw .invalidArgument("the subject field cannot be the root pointer") }
        let sealed: Bool
        switch sealing {
        case .none: sealed = false
        case .data: sealed = true
        case .fields(let pointers): sealed = pointers.contains { $0.isPrefix(of: subjectField) }
        }
        guard sealed else {
            throw .invalidArgument("event type \(name): the subject field \(subjectField) is not in the sealed part")
        }
    }

    static func validateFieldPointers(_ pointers: [JSONPointer]) throws(SealedEventsError) {
        guard !pointers.isEmpty else { throw .invalidArgument("field sealing needs at least one JSON Pointer") }
        for (index, pointer) in pointers.enumerated() {
            guard !pointer.isRoot else {
                throw .invalidArgument("the root pointer cannot be a sealed field; seal the whole data instead")
            }
            for other in pointers[(index + 1)...] where pointer.isPrefix(of: other) || other.isPrefix(of: pointer) {
                throw .invalidArgument("sealed fields \(pointer) and \(other) overlap")
            }
        }
    }
}

extension EventTypeDescriptor: Codable {
    enum CodingKeys: String, CodingKey {
        case name, domain, classification, regulations, keyArn, algorithmSuite, scope, sensitiveFields, readerRoleArn
        case subjectField
    }

    /// Decodes the catalog's JSON shape: `scope` is `none`, `data` or `fields` (with `sensitiveFields`, JSON
    /// Pointer strings), `algorithmSuite` a string such as `0x0578`, `subjectField` (optional) a JSON Pointer string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let suiteText = try container.decode(String.self, forKey: .algorithmSuite)
        guard let suite = AlgorithmSuite(suiteText) else {
            throw SealedEventsError(.unsupportedAlgorithmSuite, "unknown algorithm suite \(suiteText)")
        }
        let sealing: Sealing
        switch try container.decode(String.self, forKey: .scope) {
        case "none": sealing = .none
        case "data": sealing = .data
        case "fields": sealing = .fields(try container.decode([JSONPointer].self, forKey: .sensitiveFields))
        case let other: throw SealedEventsError(.unsupportedFormat, "unknown sealing scope \"\(other)\"")
        }
        self.init(
            name: try container.decode(String.self, forKey: .name),
            domain: try container.decode(String.self, forKey: .domain),
            classification: try container.decode(Classification.self, forKey: .classification),
            regulations: try container.decodeIfPresent([String].self, forKey: .regulations) ?? [],
            keyArn: try container.decode(String.self, forKey: .keyArn),
            algorithmSuite: suite,
            sealing: sealing,
            readerRoleArn: try container.decodeIfPresent(String.self, forKey: .readerRoleArn),
            subjectField: try container.decodeIfPresent(JSONPointer.self, forKey: .subjectField)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(domain, forKey: .domain)
        try container.encode(classification, forKey: .classification)
        try container.encode(regulations, forKey: .regulations)
        try container.encode(keyArn, forKey: .keyArn)
        try container.encode(algorithmSuite.description, forKey: .algorithmSuite)
        switch sealing {
        case .none: try container.encode("none", forKey: .scope)
        case .data: try container.encode("data", forKey: .scope)
        case .fields(let pointers):
            try container.encode("fields", forKey: .scope)
            try container.encode(pointers, forKey: .sensitiveFields)
        }
        try container.encodeIfPresent(readerRoleArn, forKey: .readerRoleArn)
        try container.encodeIfPresent(subjectField, forKey: .subjectField)
    }
}
