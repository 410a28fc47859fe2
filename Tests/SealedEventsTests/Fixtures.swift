import Crypto
import EncryptionSDK
import SealedEvents

/// Keys, descriptors and events shared by the tests.
enum Fixtures {
    static let namespace = "sealed-tests"
    static let keyName = "payments-key"
    static let keyBytes: [UInt8] = (0..<32).map { UInt8($0 &* 7 &+ 3) }
    static let keyring = try! RawAESKeyring(
        keyNamespace: namespace,
        keyName: keyName,
        wrappingKey: SymmetricKey(data: keyBytes)
    )
    static let keyArn = SealedMessage.rawKeyIdentifier(namespace: namespace, name: keyName)

    /// A keyring with another key of the same namespace: it holds no key the events name.
    static let strangerKeyring = try! RawAESKeyring(
        keyNamespace: namespace,
        keyName: "other-key",
        wrappingKey: SymmetricKey(size: .bits256)
    )

    static let suites: [AlgorithmSuite] = [.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384]

    static let sensitiveFields = [
        try! JSONPointer("/card/number"), try! JSONPointer("/card/holder"), try! JSONPointer("/items/1/serial"),
        try! JSONPointer("/notes~1internal"), try! JSONPointer("/optional/absent"),
    ]

    static func descriptor(
        suite: AlgorithmSuite = .aes256GCMHKDFSHA512CommittingECDSAP384,
        sealing: EventTypeDescriptor.Sealing = .fields(sensitiveFields),
        keyArn: String = keyArn,
        name: String = "payments.card.captured"
    ) -> EventTypeDescriptor {
        EventTypeDescriptor(
            name: name,
            domain: "payments",
            classification: .restricted,
            regulations: ["PCI-DSS", "GDPR"],
            keyArn: keyArn,
            algorithmSuite: suite,
            sealing: sealing,
            readerRoleArn: "arn:aws:iam::000000000000:role/payments-card-captured-reader"
        )
    }

    /// Data with nesting, arrays, Unicode (composed and decomposed), escapes and numbers of every spelling.
    static let dataText = #"""
        {"amount":1250,"currency":"EUR","rate":1.0,"huge":1e400,"tiny":-0.000001E-10,"exact":0.10,\#
        "card":{"number":"4111111111111111","holder":"Zoë Ünïcødé e\u0301 日本 🎉","expiry":"12/29"},\#
        "items":[{"sku":"A-1","serial":null},{"sku":"B-2","serial":{"id":[1,2.50,"x"],"note":"tab\tquote\""}}],\#
        "notes/internal":"manual review","optional":{"present":true},"empty":{}}
        """#

    static var data: JSONValue { try! JSONValue(parsing: dataText) }

    static let secrets = ["4111111111111111", "Zoë", "manual review", "tab\\tquote"]

    static func envelope(eventId: String = "01JD3EVENT0000000000000001", data: JSONValue = data) -> Envelope {
        Envelope(
            metaData: MetaData(
                eventId: eventId,
                eventType: "payments.card.captured",
                domain: "payments",
                source: "checkout-service",
                time: "2026-11-29T10:15:00Z",
                additionalMembers: ["traceId": "t-1"]
            ),
            data: data,
            additionalMembers: ["schemaVersion": 2]
        )
    }
}
