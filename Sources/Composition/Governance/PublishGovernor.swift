public import Catalog
import EncryptionSDK
import Foundation
public import SealedEvents
import WireShapes

/// Governance at publish: what the catalog says about an event's type decides whether the bus takes it.
///
/// The rules, checked in this order, each refusal naming its rule:
///
/// 1. `EventTooLarge` — the envelope is larger than the limit.
/// 2. `MalformedEnvelope` — it is not a `metaData` + `data` envelope.
/// 3. `UnknownEventType` — the catalog has no such type, and the policy for unknown types is to refuse.
/// 4. `DomainMismatch` — `metaData.domain` is not the type's domain.
/// 5. `EventNotSealed` — the type is classified `confidential` or `restricted` and its sensitive part is not sealed
///    with the domain's key, the type's algorithm suite and scope: checked from the envelope and the ESDK message
///    header (its encrypted data keys and encryption context) without decrypting anything.
public struct PublishGovernor: Sendable {
    /// What happens to events of types the catalog does not know.
    public enum UnknownTypes: String, Sendable, CaseIterable {
        case allow, refuse
    }

    public let catalog: EventCatalog
    public let unknownTypes: UnknownTypes
    public let maximumEventBytes: Int

    public init(catalog: EventCatalog, unknownTypes: UnknownTypes = .refuse, maximumEventBytes: Int = 262_144) {
        self.catalog = catalog
        self.unknownTypes = unknownTypes
        self.maximumEventBytes = maximumEventBytes
    }

    /// The event id of an envelope the bus may take, or the refusal.
    ///
    /// - Parameters:
    ///   - size: The envelope's size in bytes, as it will be stored.
    ///   - value: The envelope, already parsed (the publish route parses the body once).
    public func admit(size: Int, value: JSONValue) async throws(GovernanceRefusal) -> String {
        guard size <= maximumEventBytes else {
            throw GovernanceRefusal(
                .eventTooLarge,
                "the event is \(size) bytes; the bus takes at most \(maximumEventBytes)"
            )
        }
        let envelope: Envelope
        do {
            envelope = try Envelope(jsonValue: value)
        } catch {
            throw GovernanceRefusal(.malformedEnvelope, "not a Sealed Events envelope: \(error)")
        }
        let metaData = envelope.metaData
        guard let type = try? await catalog.eventType(named: metaData.eventType),
            let domain = await catalog.domain(named: type.domain)
        else {
            if unknownTypes == .allow { return metaData.eventId }
            throw GovernanceRefusal(
                .unknownEventType,
                "event type \(metaData.eventType) is not in the catalog (sealed serve --unknown-event-types refuses it)"
            )
        }
        guard metaData.domain == type.domain else {
            throw GovernanceRefusal(
                .domainMismatch,
                "event type \(type.name) belongs to domain \(type.domain), not \(metaData.domain)"
            )
        }
        guard type.classification.requiresSealing else { return metaData.eventId }
        let descriptor = Self.descriptor(of: type, keyARN: domain.keyARN)
        do {
            _ = try SealedMessage(envelope, descriptor: descriptor)
        } catch {
            throw GovernanceRefusal(
                .eventNotSealed,
                "\(type.name) is \(type.classification): its \(type.scope == "data" ? "data" : "sensitive fields") "
                    + "must be sealed with the \(type.domain) key \(domain.keyARN) and suite \(type.algorithmSuite): \(error)"
            )
        }
        return metaData.eventId
    }

    /// The SDK's descriptor of a catalog entry.
    public static func descriptor(of type: Catalog.EventType, keyARN: String) -> EventTypeDescriptor {
        let pointers = type.sensitiveFields.compactMap { try? JSONPointer($0) }
        return EventTypeDescriptor(
            name: type.name,
            domain: type.domain,
            classification: SealedEvents.Classification(rawValue: type.classification.rawValue) ?? .restricted,
            regulations: type.regulations,
            keyArn: keyARN,
            algorithmSuite: AlgorithmSuite(type.algorithmSuite) ?? .aes256GCMHKDFSHA512CommittingECDSAP384,
            sealing: pointers.isEmpty ? .data : .fields(pointers),
            readerRoleArn: type.readerRoleARN,
            subjectField: type.subjectField.flatMap { try? JSONPointer($0) }
        )
    }
}

/// A publish governance refused: the rule and why. The HTTP edge answers it as a 400 whose error code is the rule's.
public struct GovernanceRefusal: Error, Hashable, CustomStringConvertible {
    /// The rules of ``PublishGovernor``; the raw value is the error code clients see.
    public enum Rule: String, Sendable, Hashable, CaseIterable {
        case eventTooLarge = "EventTooLarge"
        case malformedEnvelope = "MalformedEnvelope"
        case unknownEventType = "UnknownEventType"
        case domainMismatch = "DomainMismatch"
        case eventNotSealed = "EventNotSealed"
    }

    public var rule: Rule
    public var message: String

    public init(_ rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(rule.rawValue): \(message)" }
}
