import SealedEvents
import Testing

/// The envelope's JSON codec and its CloudEvents mapping.
struct EnvelopeTests {
    static let sealedText = #"""
        {"metaData":{"eventId":"01JD3XYZ","eventType":"payments.card.captured","domain":"payments",\#
        "source":"checkout-service","time":"2026-11-29T10:15:00Z","classification":"restricted",\#
        "regulations":["PCI-DSS","GDPR"],"encryption":{"keyArn":"arn:aws:kms:us-east-1:000000000000:key/6f1c",\#
        "format":"aws-esdk","algorithmSuite":"0x0578","scope":"fields",\#
        "encryptionContext":{"domain":"payments","eventType":"payments.card.captured"},\#
        "sealedFields":["/card/number","/a~1b"],"ciphertext":"AgV4","futureKey":{"x":[1.0,2]},"n":1e400},\#
        "traceId":"abc","priority":7.50},"data":{"card":{"number":{"sealed":true}},"a/b":{"sealed":true}},\#
        "schemaVersion":2,"extra":{"nested":["é",null]}}
        """#

    @Test func codecRoundTripKeepsUnknownMembers() throws {
        let envelope = try Envelope(json: Self.sealedText)
        #expect(envelope.metaData.additionalMembers.keys == ["traceId", "priority"])
        #expect(envelope.metaData.encryption?.additionalMembers.keys == ["futureKey", "n"])
        #expect(envelope.additionalMembers.keys == ["schemaVersion", "extra"])
        #expect(
            envelope.metaData.encryption?.sealedFields == [try JSONPointer("/card/number"), try JSONPointer("/a~1b")]
        )
        #expect(envelope.metaData.classification == .restricted)
        // Known members come first in a fixed order, so this text (written in that order) is reproduced byte for byte.
        #expect(envelope.jsonString() == Self.sealedText)
        let again = try Envelope(json: envelope.serialized())
        #expect(again == envelope)
        #expect(again.metaData.additionalMembers["priority"]?.numberValue?.literal == "7.50")
        #expect(again.metaData.encryption?.additionalMembers["n"]?.numberValue?.literal == "1e400")
    }

    @Test func unknownMembersSurviveWhateverTheirPosition() throws {
        let text =
            #"{"x":1,"data":null,"metaData":{"zz":true,"eventId":"e","eventType":"t","domain":"d","source":"s"}}"#
        let envelope = try Envelope(json: text)
        #expect(
            envelope.jsonString()
                == #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","zz":true},"data":null,"x":1}"#
        )
        #expect(try Envelope(json: envelope.serialized()) == envelope)
    }

    @Test(arguments: [
        #"[]"#, #"{"data":1}"#, #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s"}}"#,
        #"{"metaData":{"eventType":"t","domain":"d","source":"s"},"data":1}"#,
        #"{"metaData":{"eventId":"","eventType":"t","domain":"d","source":"s"},"data":1}"#,
        #"{"metaData":{"eventId":7,"eventType":"t","domain":"d","source":"s"},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","classification":"secret"},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","regulations":"GDPR"},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","regulations":[1]},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","encryption":[]},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","encryption":{"keyArn":"k","format":"aws-esdk","algorithmSuite":"0x0578","scope":"data"}},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","encryption":{"keyArn":"k","format":"aws-esdk","algorithmSuite":"0x0578","scope":"data","encryptionContext":{"a":1}}},"data":1}"#,
        #"{"metaData":{"eventId":"e","eventType":"t","domain":"d","source":"s","encryption":{"keyArn":"k","format":"aws-esdk","algorithmSuite":"0x0578","scope":"fields","encryptionContext":{},"sealedFields":["x"]}},"data":1}"#,
    ])
    func malformedEnvelopesAreTypedErrors(text: String) {
        #expect(throws: SealedEventsError(.malformedEnvelope, "")) { try Envelope(json: text) }
    }

    @Test func invalidJSONIsNotAnEnvelope() {
        #expect(throws: SealedEventsError(.invalidJSON, "")) { try Envelope(json: "{\"metaData\":") }
    }

    @Test func cloudEventsBothWaysForFieldSealing() throws {
        let envelope = try Envelope(json: Self.sealedText)
        let event = try envelope.cloudEvent()
        #expect(event.id == "01JD3XYZ")
        #expect(event.type == "payments.card.captured")
        #expect(event.source == "checkout-service")
        #expect(event.time == "2026-11-29T10:15:00Z")
        #expect(event.datacontenttype == "application/json")
        #expect(event.extensions["domain"] == "payments")
        #expect(event.extensions["dataclassification"] == "restricted")
        #expect(event.extensions["dataregulation"] == "PCI-DSS,GDPR")
        #expect(event.extensions.keys.allSatisfy(CloudEvent.isValidExtensionName))
        let encryption = try JSONValue(parsing: #require(event.extensions["sealedencryption"]?.stringValue))
        #expect(encryption == envelope.metaData.encryption?.jsonValue)
        #expect(event.data == envelope.data)
        #expect(event.dataBase64 == nil)

        // Through its JSON text and back.
        let parsed = try CloudEvent(json: event.serialized())
        #expect(parsed == event)
        #expect(try Envelope(cloudEvent: parsed) == envelope)
    }

    @Test func cloudEventsBothWaysForWholeDataSealing() throws {
        var envelope = try Envelope(json: Self.sealedText)
        envelope.metaData.encryption?.scope = .data
        envelope.metaData.encryption?.sealedFields = nil
        envelope.metaData.encryption?.ciphertext = nil
        envelope.metaData.regulations = nil
        envelope.metaData.classification = nil
        envelope.data = "AgV4AAAA"
        let event = try envelope.cloudEvent()
        #expect(event.dataBase64 == "AgV4AAAA")
        #expect(event.data == nil)
        #expect(event.datacontenttype == Envelope.esdkContentType)
        #expect(event.extensions["dataregulation"] == nil)
        let json = event.jsonValue
        #expect(json.objectValue?["data_base64"] == "AgV4AAAA")
        #expect(try Envelope(cloudEvent: CloudEvent(jsonValue: json)) == envelope)
    }

    @Test func foreignCloudEventsMapIntoMetaData() throws {
        let text = #"""
            {"specversion":"1.0","id":"x-1","source":"/orders","type":"orders.created","domain":"orders",\#
            "traceparent":"00-abc","retries":3,"data":{"total":12.50}}
            """#
        let envelope = try Envelope(cloudEvent: CloudEvent(json: Array(text.utf8)))
        #expect(envelope.metaData.eventId == "x-1")
        #expect(envelope.metaData.domain == "orders")
        #expect(envelope.metaData.additionalMembers.keys == ["traceparent", "retries"])
        #expect(envelope.data.jsonString() == #"{"total":12.50}"#)
        #expect(envelope.metaData.encryption == nil)
    }

    @Test(arguments: [
        #"{"specversion":"0.3","id":"a","source":"s","type":"t","domain":"d"}"#,
        #"{"id":"a","source":"s","type":"t","domain":"d"}"#,
        #"{"specversion":"1.0","source":"s","type":"t","domain":"d"}"#,
        #"{"specversion":"1.0","id":"a","source":"s","type":"t","domain":"d","data":1,"data_base64":"AA=="}"#,
        #"{"specversion":"1.0","id":"a","source":"s","type":"t","domain":"d","Bad":"x"}"#,
        #"{"specversion":"1.0","id":"a","source":"s","type":"t","domain":"d","obj":{"x":1}}"#,
    ])
    func malformedCloudEventsAreTypedErrors(text: String) {
        #expect(throws: SealedEventsError(.malformedEnvelope, "")) { try CloudEvent(json: Array(text.utf8)) }
    }

    @Test(arguments: [
        #"{"specversion":"1.0","id":"a","source":"s","type":"t"}"#,
        #"{"specversion":"1.0","id":"a","source":"s","type":"t","domain":"d","dataclassification":"top"}"#,
        #"{"specversion":"1.0","id":"a","source":"s","type":"t","domain":"d","sealedencryption":"{"}"#,
        #"{"specversion":"1.0","id":"a","source":"s","type":"t","domain":"d","sealedmetadata":"[1]"}"#,
    ])
    func cloudEventsThatAreNotEnvelopesAreTypedErrors(text: String) throws {
        let event = try CloudEvent(json: Array(text.utf8))
        #expect(throws: SealedEventsError(.malformedEnvelope, "")) { try Envelope(cloudEvent: event) }
    }

    @Test func regulationsWithCommasCannotBeCloudEvents() throws {
        var envelope = try Envelope(json: Self.sealedText)
        envelope.metaData.regulations = ["A,B"]
        #expect(throws: SealedEventsError(.invalidArgument, "")) { try envelope.cloudEvent() }
    }
}
