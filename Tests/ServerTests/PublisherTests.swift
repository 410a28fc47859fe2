import AuditTrail
import Catalog
import Composition
import EventBus
import Foundation
import KMS
import PlatformClient
import SealedEvents
import SealedServerTesting
import Server
import SigV4
import Synchronization
import Testing
import WireShapes

/// The SDK's ``PlatformClient/Publisher`` against a live server over the platform in memory: sealing and streaming,
/// the window, refusals, a refused opening, and a connection cut mid-stream that leaves every event stored once.
@Suite struct PublisherTests {
    func client(_ port: Int, _ keys: PlatformFixture.Keys, secret: String? = nil) throws -> PlatformClient {
        try PlatformClient(
            endpoint: URL(string: "http://127.0.0.1:\(port)")!,
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: keys.id, secretAccessKey: secret ?? keys.secret)
            )
        )
    }

    /// Events sealed by the publisher's ``Sealer`` and events already sealed (or public) go on one stream; when
    /// `withPublisher` returns, each has its offset, in the order they were published.
    @Test func sealsStreamsAndFinishes() async throws {
        let world = try await StreamWorld()
        try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            let admin = world.fixture.admin
            let kms = try KMSClient(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyId: admin.id, secretAccessKey: admin.secret)
                ),
                endpoint: URL(string: "http://127.0.0.1:\(port)")!
            )
            let type = try await world.fixture.catalog.eventType(named: StreamWorld.restrictedType)
            let domain = try #require(await world.fixture.catalog.domain(named: "shop"))
            let descriptor = PublishGovernor.descriptor(of: type, keyARN: domain.keyARN)
            let receipts = try await client(port, admin).withPublisher(
                topic: "orders",
                sealer: try Sealer(kms: kms),
                options: Publisher.Options(window: 16)
            ) { publisher in
                var receipts: [Publisher.Receipt] = []
                for index in 1...120 {
                    if index % 3 == 0 {
                        let envelope = Envelope(
                            metaData: MetaData(
                                eventId: "sealed-\(index)",
                                eventType: type.name,
                                domain: "shop",
                                source: "tests"
                            ),
                            data: ["card": .string(StreamWorld.secret)]
                        )
                        receipts.append(try await publisher.publish(envelope, as: descriptor))
                    } else {
                        receipts.append(
                            try await publisher.publish(
                                json: StreamWorld.envelope("plain-\(index)"),
                                eventId: "plain-\(index)"
                            )
                        )
                    }
                    #expect(await publisher.unacknowledgedCount <= 16)
                }
                return receipts
            }
            var offsets: [UInt64] = []
            for receipt in receipts { offsets.append(try await receipt.offset) }
            #expect(offsets == Array(1...120))
            let stored = try await world.events()
            #expect(stored.map(\.eventID) == receipts.map(\.eventId))
            // The sealed ones hold no plaintext.
            for event in stored where event.eventID.hasPrefix("sealed-") {
                #expect(!String(decoding: event.payload, as: UTF8.self).contains(StreamWorld.secret))
            }
        }
    }

    /// With the server's transport held, the publisher sends `window` events and the next publish waits; once the
    /// transport goes on, it is sent and everything is acknowledged.
    @Test func theWindowBoundsUnacknowledgedEvents() async throws {
        let world = try await StreamWorld()
        let gate = GatedTransport(world.transport)
        try await withLiveServer(world.server(transport: gate), logger: Fixture.logger) { port in
            let receipts = try await client(port, world.fixture.admin).withPublisher(
                topic: "orders",
                options: Publisher.Options(window: 4)
            ) { publisher in
                var receipts: [Publisher.Receipt] = []
                for index in 1...4 {
                    receipts.append(
                        try await publisher.publish(json: StreamWorld.envelope("w\(index)"), eventId: "w\(index)")
                    )
                }
                #expect(await publisher.unacknowledgedCount == 4)
                async let fifth = publisher.publish(json: StreamWorld.envelope("w5"), eventId: "w5")
                try await eventually { await publisher.waitingForWindow == 1 }
                #expect(await publisher.unacknowledgedCount == 4)
                gate.open()
                receipts.append(try await fifth)
                return receipts
            }
            var offsets: [UInt64] = []
            for receipt in receipts { offsets.append(try await receipt.offset) }
            #expect(offsets == [1, 2, 3, 4, 5])
        }
    }

    /// A refused event fails its own receipt with the rule; the events around it are stored.
    @Test func aRefusalFailsItsReceiptOnly() async throws {
        let world = try await StreamWorld()
        try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            let receipts = try await client(port, world.fixture.admin).withPublisher(topic: "orders") { publisher in
                [
                    try await publisher.publish(json: StreamWorld.envelope("a"), eventId: "a"),
                    try await publisher.publish(
                        json: StreamWorld.envelope("bad", type: StreamWorld.restrictedType),
                        eventId: "bad"
                    ),
                    try await publisher.publish(json: StreamWorld.envelope("b"), eventId: "b"),
                ]
            }
            #expect(try await receipts[0].offset == 1)
            do {
                _ = try await receipts[1].offset
                Issue.record("the unsealed restricted event was stored")
            } catch let refusal as EventRefusal {
                #expect(refusal.rule == "EventNotSealed")
                #expect(refusal.eventId == "bad")
            }
            #expect(try await receipts[2].offset == 2)
        }
    }

    /// A stream whose opening is refused (a wrong secret) is not retried: `withPublisher` throws the refusal, and so
    /// does every receipt.
    @Test func aRefusedOpeningFailsEveryEvent() async throws {
        let world = try await StreamWorld()
        try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            let receipt = Mutex<Publisher.Receipt?>(nil)
            do {
                try await client(port, world.fixture.admin, secret: "wrong").withPublisher(topic: "orders") {
                    publisher in
                    let sent = try await publisher.publish(json: StreamWorld.envelope("x"), eventId: "x")
                    receipt.withLock { $0 = sent }
                }
                Issue.record("the stream was accepted")
            } catch let error as PlatformError {
                #expect(error.code == "InvalidSignatureException")
            }
            let sent = try #require(receipt.withLock { $0 })
            await #expect(throws: PlatformError.self) { try await sent.offset }
        }
        #expect(try await world.events().isEmpty)
    }

    /// The first connection is cut as the server acknowledges its first group, after those events were stored: the
    /// publisher reconnects, sends every unacknowledged event again with the same ids, and each event is stored exactly
    /// once, with the offset its receipt names.
    @Test func aCutConnectionIsResumedWithoutDuplicates() async throws {
        let world = try await StreamWorld()
        let proxy = try await CuttingProxy()
        try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await proxy.run(upstream: port) }
                let ids = (1...300).map { "r\($0)" }
                let receipts = try await client(proxy.port, world.fixture.admin).withPublisher(
                    topic: "orders",
                    options: Publisher.Options(window: 64, baseBackoff: .milliseconds(10))
                ) { publisher in
                    var receipts: [Publisher.Receipt] = []
                    for id in ids {
                        receipts.append(try await publisher.publish(json: StreamWorld.envelope(id), eventId: id))
                    }
                    return receipts
                }
                group.cancelAll()
                #expect(proxy.counts.cuts == 1)
                #expect(proxy.counts.connections >= 2)
                let stored = try await world.events()
                #expect(stored.map(\.eventID) == ids)
                #expect(stored.map(\.offset) == Array(1...300))
                for (receipt, event) in zip(receipts, stored) {
                    #expect(try await receipt.offset == event.offset)
                }
                // The resent events were stored before the cut: the server's records name some ids twice.
                let recorded = try await world.records().flatMap {
                    $0.responseElements?["eventIds"]?.arrayValue ?? []
                }
                #expect(recorded.count > ids.count)
            }
        }
    }
}
