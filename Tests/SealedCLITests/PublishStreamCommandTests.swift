import Foundation
import SealedTesting
import Testing
import WireShapes

/// `sealed publish --stream` against the built `sealed serve`: NDJSON envelopes from a file or standard input, one
/// acknowledgement line per event in input order, exit status 2 when any event was refused and 0 otherwise.
@Suite(.serialized)
struct PublishStreamCommandTests {
    typealias Platform = EventPlatformTests.Platform

    /// Runs `sealed publish --stream` as the administrator, whatever its exit status.
    func publish(_ server: ServeProcess, _ arguments: [String], stdin: Data? = nil) async throws -> ESDKCommandTests.Run {
        try await ESDKCommandTests.sealed(
            ["publish", "--stream"] + arguments + [
                "--endpoint-url", server.endpoint.absoluteString, "--profile", "sealed-admin", "--region", "us-east-1",
            ],
            stdin: stdin,
            environment: [
                "AWS_SHARED_CREDENTIALS_FILE": server.administratorCredentialsFile.path,
                "AWS_CONFIG_FILE": "/nonexistent",
            ]
        )
    }

    static func lines(_ run: ESDKCommandTests.Run) throws -> [EventStreamLine] {
        try run.stdout.split(separator: UInt8(ascii: "\n")).map { try EventStreamLine(parsing: Array($0)) }
    }

    @Test func aFileWithARefusedEventExitsTwoAndStoresTheOthers() async throws {
        let server = try ServeProcess(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        try await platform.createTopic("stream")
        let a = platform.domainA
        let sealed = try await platform.sealed(id: "s-sealed", type: a.confidential, data: #"{"amount":1}"#)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString).ndjson")
        defer { try? FileManager.default.removeItem(at: file) }
        let body =
            [
                Platform.plain(id: "s-1", type: a.publicType, domain: a.name, data: "{}"),
                Platform.plain(id: "s-unsealed", type: a.confidential, domain: a.name, data: #"{"amount":1}"#),
                sealed,
                [],  // a blank line: skipped
                Platform.plain(id: "s-2", type: a.internalType, domain: a.name, data: "{}"),
            ].map { $0 + Array("\r\n".utf8) }.joined()
        try Data(body).write(to: file)

        let run = try await publish(server, ["--topic", "stream", "--file", file.path])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("1 of 4 events were refused"))
        let lines = try Self.lines(run)
        try #require(lines.count == 4)
        #expect(lines[0] == .stored(eventId: "s-1", offset: 1))
        guard case .refused("s-unsealed", "EventNotSealed", _) = lines[1] else {
            Issue.record("\(lines[1])")
            return
        }
        #expect(lines[2] == .stored(eventId: "s-sealed", offset: 2))
        #expect(lines[3] == .stored(eventId: "s-2", offset: 3))
        #expect(try await platform.readAll("stream").map(\.id) == ["s-1", "s-sealed", "s-2"])
    }

    @Test func standardInputWithEveryEventStoredExitsZero() async throws {
        let server = try ServeProcess(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        try await platform.createTopic("stream")
        let a = platform.domainA
        let ids = (1...50).map { "in-\($0)" }
        let input = ids.map { Platform.plain(id: $0, type: a.publicType, domain: a.name, data: "{}") + [0x0A] }.joined()

        let run = try await publish(server, ["--topic", "stream"], stdin: Data(input))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.lines(run) == ids.enumerated().map { .stored(eventId: $1, offset: UInt64($0 + 1)) })
        // The same events again, from `--file -`: the bus already holds their ids, so the offsets are the same.
        let again = try await publish(server, ["--topic", "stream", "--file", "-"], stdin: Data(input))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.lines(again) == ids.enumerated().map { .stored(eventId: $1, offset: UInt64($0 + 1)) })
        #expect(try await platform.eventCount("stream") == 50)
    }

    @Test func aMissingTopicFailsWithStatusOne() async throws {
        let server = try ServeProcess(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server, catalog: false)
        _ = platform
        let run = try await publish(server, ["--topic", "nowhere"], stdin: Data(#"{"metaData":{}}"#.utf8 + [0x0A]))
        #expect(run.status == 1)
        #expect(run.stderr.contains("NoSuchTopic"), "\(run.stderr)")
    }
}
