import EncryptionSDK
import Foundation
import SealedEvents
import SealedTesting
import Testing

/// Drives `scripts/peers/sealed_event_peer.py`: a consumer and producer written from
/// `docs/sealed-events-format.md` with the official Python ESDK.
struct SealedEventPeer {
    struct Case {
        var id: String
        var operation: String
        var input: [UInt8]
        var seal: (keyArn: String, suite: String, scope: String, fields: [String])? = nil
    }

    let python: URL

    /// The peer, or `nil` on a local run without the venv (a CI run throws instead).
    static func located() throws -> SealedEventPeer? {
        try TestEnvironment.peerPython().map { SealedEventPeer(python: $0) }
    }

    /// Runs the cases in one process; returns each case's output, or its error text.
    func run(_ cases: [Case]) async throws -> [String: Result<[UInt8], PeerFailure>] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyring: [String: Any] = [
            "type": "raw-aes", "namespace": Fixtures.namespace, "name": Fixtures.keyName,
            "key": Data(Fixtures.keyBytes).base64EncodedString(),
        ]
        var jobs: [[String: Any]] = []
        for (index, item) in cases.enumerated() {
            let input = folder.appendingPathComponent("in-\(index).json")
            try Data(item.input).write(to: input)
            var job: [String: Any] = [
                "id": item.id, "operation": item.operation, "keyring": keyring, "input": input.path,
                "output": folder.appendingPathComponent("out-\(index).json").path,
            ]
            if let seal = item.seal {
                job["key_arn"] = seal.keyArn
                job["suite"] = seal.suite
                job["scope"] = seal.scope
                job["fields"] = seal.fields
            }
            jobs.append(job)
        }
        let jobFile = folder.appendingPathComponent("job.json")
        let resultFile = folder.appendingPathComponent("results.json")
        try JSONSerialization.data(withJSONObject: ["cases": jobs]).write(to: jobFile)
        let run = try await ChildProcess.run(
            python,
            arguments: [
                TestEnvironment.peerScripts.appendingPathComponent("sealed_event_peer.py").path, jobFile.path,
                resultFile.path,
            ]
        )
        guard run.status == 0 else {
            throw PeerFailure(description: "peer exited \(run.status): \(run.errors)")
        }
        let results =
            try JSONValue(parsing: [UInt8](Data(contentsOf: resultFile))).objectValue?["results"]?.arrayValue ?? []
        var byID: [String: Result<[UInt8], PeerFailure>] = [:]
        for result in results {
            guard let object = result.objectValue, let id = object["id"]?.stringValue,
                let index = cases.firstIndex(where: { $0.id == id })
            else { continue }
            if object["ok"] == true {
                byID[id] = .success([UInt8](try Data(contentsOf: folder.appendingPathComponent("out-\(index).json"))))
            } else {
                byID[id] = .failure(PeerFailure(description: object["error"]?.stringValue ?? "?"))
            }
        }
        return byID
    }

    struct PeerFailure: Error, CustomStringConvertible {
        let description: String
    }
}

struct InteropTests {
    static let scopes: [EventTypeDescriptor.Sealing] = [.data, .fields(Fixtures.sensitiveFields)]

    static func descriptors() -> [EventTypeDescriptor] {
        Fixtures.suites.flatMap { suite in scopes.map { Fixtures.descriptor(suite: suite, sealing: $0) } }
    }

    @Test func pythonOpensWhatSwiftSealed() async throws {
        guard let peer = try SealedEventPeer.located() else { return }
        let sealer = try Sealer(keyring: Fixtures.keyring)
        var cases: [SealedEventPeer.Case] = []
        for (index, descriptor) in Self.descriptors().enumerated() {
            let sealed = try await sealer.seal(Fixtures.envelope(eventId: "swift-\(index)"), as: descriptor)
            cases.append(.init(id: "open-\(index)", operation: "open", input: sealed.serialized()))
        }
        let results = try await peer.run(cases)
        #expect(results.count == cases.count)
        for item in cases {
            let output = try #require(try results[item.id]?.get())
            let opened = try JSONValue(parsing: output)
            let data = try #require(opened.objectValue?["data"])
            #expect(data == Fixtures.data, "\(item.id)")
            #expect(data.jsonString() == Fixtures.data.jsonString(), "\(item.id): exact spelling and order")
        }
    }

    @Test func pythonChecksTheBindingAsDocumented() async throws {
        guard let peer = try SealedEventPeer.located() else { return }
        let sealer = try Sealer(keyring: Fixtures.keyring)
        let fields = Fixtures.descriptor()
        let whole = Fixtures.descriptor(suite: .aes256GCMHKDFSHA512Committing, sealing: .data)
        let a = try await sealer.seal(Fixtures.envelope(eventId: "A"), as: whole)
        let b = try await sealer.seal(Fixtures.envelope(eventId: "B"), as: whole)
        var copied = b
        copied.data = a.data

        let c = try await sealer.seal(Fixtures.envelope(eventId: "C"), as: fields)
        let d = try await sealer.seal(Fixtures.envelope(eventId: "D"), as: fields)
        var swapped = c
        swapped.metaData.encryption?.sealedFields?.swapAt(0, 1)
        var movedFields = d
        movedFields.metaData.encryption?.ciphertext = c.metaData.encryption?.ciphertext
        var relabelled = a
        relabelled.metaData.encryption?.keyArn = "raw:sealed-tests/other-key"
        var retyped = c
        retyped.metaData.eventType = "payments.card.refunded"

        let tampered: [(String, Envelope)] = [
            ("copied-data", copied), ("swapped-pointers", swapped), ("moved-fields", movedFields),
            ("relabelled-key", relabelled), ("retyped", retyped),
        ]
        let results = try await peer.run(tampered.map { .init(id: $0.0, operation: "open", input: $0.1.serialized()) })
        for (id, _) in tampered {
            switch results[id] {
            case .failure(let failure): #expect(failure.description.hasPrefix("BindingError"), "\(id): \(failure)")
            case .success: Issue.record("the Python consumer opened \(id)")
            case nil: Issue.record("no result for \(id)")
            }
        }
        // The Swift opener agrees.
        let opener = try Opener(keyring: Fixtures.keyring)
        for (id, envelope) in tampered {
            await #expect(throws: SealedEventsError(.bindingMismatch, ""), "\(id)") { try await opener.open(envelope) }
        }
    }

    @Test func swiftOpensWhatPythonSealed() async throws {
        guard let peer = try SealedEventPeer.located() else { return }
        var cases: [SealedEventPeer.Case] = []
        let descriptors = Self.descriptors()
        for (index, descriptor) in descriptors.enumerated() {
            var envelope = Fixtures.envelope(eventId: "python-\(index)")
            envelope.metaData.classification = descriptor.classification
            envelope.metaData.regulations = descriptor.regulations
            let scope: String
            var fields: [String] = []
            switch descriptor.sealing {
            case .fields(let pointers):
                scope = "fields"
                fields = pointers.map(\.description)
            default: scope = "data"
            }
            cases.append(
                .init(
                    id: "seal-\(index)",
                    operation: "seal",
                    input: envelope.serialized(),
                    seal: (Fixtures.keyArn, descriptor.algorithmSuite.description, scope, fields)
                )
            )
        }
        let results = try await peer.run(cases)
        let consumerKeyring = CountingKeyring(Fixtures.keyring)
        let opener = try Opener(keyring: consumerKeyring)
        for (index, descriptor) in descriptors.enumerated() {
            let output = try #require(try results["seal-\(index)"]?.get())
            let sealed = try Envelope(json: output)
            #expect(throws: Never.self) { try SealedMessage(sealed, descriptor: descriptor) }
            let opened = try await opener.open(sealed, as: descriptor)
            #expect(opened.data == Fixtures.data)
            #expect(opened.metaData.eventId == "python-\(index)")
        }
        #expect(consumerKeyring.decryptCalls == descriptors.count, "Python makes a data key per message")
    }
}
