import Crypto
import EncryptionSDK
import Foundation
import KMS
import SealedEvents
import SealedTesting
import Synchronization
import Testing

/// Branch keys held in memory, created by the resolver on first use and destroyed by `erase`: the shape of the
/// platform's keystore, for the SDK's own rules. The real keystore (DynamoDB + KMS) is tested end to end elsewhere.
final class InMemorySubjects: SubjectKeyResolver, BranchKeyProvider, Sendable {
    struct Erased: Error {}

    private struct State {
        var keys: [String: SymmetricKey] = [:]
        var fenced: Set<String> = []
        var resolutions = 0
    }

    static let version = "0c4a3f0e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
    private let state = Mutex(State())

    var resolutions: Int { state.withLock { $0.resolutions } }

    func branchKeyID(subjectID: String, eventType: String) -> String {
        let digest = SHA256.hash(data: Data(subjectID.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        return "\(eventType)/s-\(digest)"
    }

    func subjectKey(subjectID: String, eventType: String) async throws -> SubjectKey {
        let id = branchKeyID(subjectID: subjectID, eventType: eventType)
        return try state.withLock { state in
            state.resolutions += 1
            guard !state.fenced.contains(subjectID) else {
                throw SealedEventsError(.subjectErased, "the subject was erased")
            }
            if state.keys[id] == nil { state.keys[id] = SymmetricKey(size: .bits256) }
            return SubjectKey(branchKeyID: id, keyStoreTable: SubjectKeys.platformTable)
        }
    }

    func erase(_ subjectID: String, eventTypes: [String]) {
        state.withLock { state in
            state.fenced.insert(subjectID)
            for type in eventTypes { state.keys[branchKeyID(subjectID: subjectID, eventType: type)] = nil }
        }
    }

    func activeBranchKey(id: String) async throws -> BranchKeyMaterials {
        try branchKeyVersion(id: id, version: Self.version)
    }

    func branchKeyVersion(id: String, version: String) throws -> BranchKeyMaterials {
        guard let key = state.withLock({ $0.keys[id] }) else {
            throw BranchKeyStoreError(.notFound, "no version \(version) of the branch key \(id)")
        }
        return BranchKeyMaterials(branchKeyIdentifier: id, branchKeyVersion: version, encryptionContext: [:], branchKey: key)
    }

    func keys() -> SubjectKeys {
        SubjectKeys(resolver: self, ttl: .seconds(60)) { table, _ in
            guard table == SubjectKeys.platformTable else { throw Erased() }
            return self
        }
    }
}

@Suite struct SubjectSealingTests {
    static let subjectField = try! JSONPointer("/card/holder")

    static func descriptor(sealing: EventTypeDescriptor.Sealing = .fields(Fixtures.sensitiveFields)) -> EventTypeDescriptor {
        var descriptor = Fixtures.descriptor(sealing: sealing)
        descriptor.subjectField = subjectField
        return descriptor
    }

    static func envelope(_ id: String, holder: String) throws -> Envelope {
        var envelope = Fixtures.envelope(eventId: id)
        try envelope.data.setValue(.string(holder), at: subjectField)
        return envelope
    }

    @Test(arguments: [EventTypeDescriptor.Sealing.data, .fields(Fixtures.sensitiveFields)])
    func eachSubjectsEventsAreSealedUnderItsOwnBranchKeyAlone(sealing: EventTypeDescriptor.Sealing) async throws {
        let subjects = InMemorySubjects()
        let sealer = try Sealer(keyring: Fixtures.keyring, subjects: subjects.keys())
        let opener = try Opener(keyring: Fixtures.strangerKeyring, subjects: subjects.keys())
        let descriptor = Self.descriptor(sealing: sealing)
        let alice = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000A1", holder: "Alice Adams"), as: descriptor)
        let alice2 = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000A2", holder: "Alice Adams"), as: descriptor)
        let bob = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000B1", holder: "Bob Brown"), as: descriptor)
        let aliceKey = subjects.branchKeyID(subjectID: "Alice Adams", eventType: descriptor.name)
        #expect(alice.metaData.encryption?.encryptionContext["subjectKey"] == aliceKey)
        #expect(alice2.metaData.encryption?.encryptionContext["subjectKey"] == aliceKey)
        #expect(bob.metaData.encryption?.encryptionContext["subjectKey"] != aliceKey)
        // One resolution per subject within the TTL.
        #expect(subjects.resolutions == 2)
        for sealed in [alice, alice2, bob] {
            let message = try SealedMessage(sealed)
            #expect(message.header.encryptedDataKeys.map(\.providerID) == ["aws-kms-hierarchy"])
            // The full names: three letters can turn up in random base64 by chance.
            #expect(!sealed.jsonString().contains("Alice Adams") && !sealed.jsonString().contains("Bob Brown"))
        }
        let opened = try await opener.open(alice, as: descriptor)
        #expect(try opened.data.value(at: Self.subjectField) == "Alice Adams")
        #expect(try await opener.open(bob, as: descriptor).data.value(at: Self.subjectField) == "Bob Brown")
        // The keyring of the domain key alone cannot open subject-keyed events.
        let plain = try Opener(keyring: Fixtures.keyring)
        await #expect(throws: SealedEventsError(.invalidArgument, "")) { _ = try await plain.open(alice) }
    }

    @Test func anErasedSubjectIsFencedAtSealing() async throws {
        let subjects = InMemorySubjects()
        let sealer = try Sealer(keyring: Fixtures.keyring, subjects: subjects.keys())
        let descriptor = Self.descriptor()
        subjects.erase("Carol Cole", eventTypes: [descriptor.name])
        await #expect(throws: SealedEventsError(.subjectErased, "")) {
            _ = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000C1", holder: "Carol Cole"), as: descriptor)
        }
    }

    @Test func subjectFieldsMustBeSealedAndPresent() async throws {
        let subjects = InMemorySubjects()
        let sealer = try Sealer(keyring: Fixtures.keyring, subjects: subjects.keys())
        var clear = Self.descriptor(sealing: .fields([try JSONPointer("/card/number")]))
        await #expect(throws: SealedEventsError(.invalidArgument, "")) {
            _ = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000D1", holder: "Dan"), as: clear)
        }
        clear.sealing = .data
        clear.subjectField = .root
        #expect(throws: SealedEventsError(.invalidArgument, "")) { try clear.validate() }
        var missing = Fixtures.envelope(eventId: "01JD3EVENT00000000000000D2")
        try missing.data.setValue(["no": "subject"], at: try JSONPointer("/card"))
        await #expect(throws: SealedEventsError(.invalidArgument, "")) {
            _ = try await sealer.seal(missing, as: Self.descriptor(sealing: .data))
        }
        try missing.data.setValue(["holder": ["not": "a string"]], at: try JSONPointer("/card"))
        await #expect(throws: SealedEventsError(.invalidArgument, "")) {
            _ = try await sealer.seal(missing, as: Self.descriptor(sealing: .data))
        }
        // A sealer without SubjectKeys refuses instead of sealing under the domain key.
        let plain = try Sealer(keyring: Fixtures.keyring)
        await #expect(throws: SealedEventsError(.invalidArgument, "")) {
            _ = try await plain.seal(try Self.envelope("01JD3EVENT00000000000000D3", holder: "Dan"), as: Self.descriptor())
        }
    }

    @Test func aSubjectKeyMustBeTheEventTypesAndWrapTheDataKeyAlone() async throws {
        let subjects = InMemorySubjects()
        let sealer = try Sealer(keyring: Fixtures.keyring, subjects: subjects.keys())
        let sealed = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000E1", holder: "Eve"), as: Self.descriptor())
        // Another event type's subject key in metaData: the context no longer matches, and it is not this type's.
        var moved = sealed
        moved.metaData.encryption?.encryptionContext["subjectKey"] = "orders.placed/s-00000000000000000000000000000000"
        #expect(throws: SealedEventsError(.bindingMismatch, "")) { try SealedMessage(moved) }
        // An event claiming no subject key while its message is subject-keyed: no data key of the domain key.
        var stripped = sealed
        stripped.metaData.encryption?.encryptionContext["subjectKey"] = nil
        #expect(throws: SealedEventsError(.bindingMismatch, "")) { try SealedMessage(stripped) }
    }

    @Test func theRedactedViewOfAnErasedSubjectMarksItsFieldsErased() async throws {
        let subjects = InMemorySubjects()
        let clock = TestClock()
        let sealer = try Sealer(keyring: Fixtures.keyring, subjects: subjects.keys(), clock: clock)
        let opener = try Opener(keyring: Fixtures.keyring, subjects: subjects.keys(), clock: clock)
        let descriptor = Self.descriptor()
        let sealed = try await sealer.seal(try Self.envelope("01JD3EVENT00000000000000F1", holder: "Fay"), as: descriptor)
        _ = try await opener.open(sealed, as: descriptor)
        subjects.erase("Fay", eventTypes: [descriptor.name])
        clock.advance(by: .seconds(61))
        let view = try await opener.open(sealed, as: descriptor, redacting: true)
        #expect(view.denial?.code == .subjectErased)
        #expect(view.sealedFields == sealed.metaData.encryption?.sealedFields)
        for pointer in view.sealedFields { #expect(try view.data.value(at: pointer) == Envelope.erasedMarker) }
        await #expect(throws: SealedEventsError(.subjectErased, "")) { _ = try await opener.open(sealed, as: descriptor) }
    }
}
