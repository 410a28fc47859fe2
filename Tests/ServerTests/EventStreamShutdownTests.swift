import AsyncHTTPClient
import EventBus
import Foundation
import NIOCore
import NIOHTTP1
import SealedServerTesting
import Server
import SigV4
import Synchronization
import Testing

/// `GET /v1/topics/{topic}/stream` (server-sent events) never ends by itself. Found by the contract run
/// (`SchemathesisTests`): a stream whose client stays connected held the server's graceful shutdown for as long as
/// the client stayed, so `sealed serve` could not stop on SIGTERM while a consumer was connected. A graceful shutdown
/// now ends the stream once the batch being read is written.
@Suite struct EventStreamShutdownTests {
    @Test func aGracefulShutdownEndsAnOpenEventStream() async throws {
        let world = try await StreamWorld()
        _ = try await world.transport.publish(
            [OutgoingEvent(eventID: "e1", payload: StreamWorld.envelope("e1"))],
            to: "orders"
        )
        let running = try await BackgroundServer.start(world.server(), logger: Fixture.logger)
        let response = try await HTTPClient.shared.execute(
            try Self.signedGet("/v1/topics/orders/stream", port: running.port, keys: world.fixture.admin),
            timeout: .seconds(600)
        )
        #expect(response.status == .ok)
        var chunks = response.body.makeAsyncIterator()
        let first = try #require(try await chunks.next(), "the stream sends the event it holds")
        #expect(String(buffer: first).hasPrefix("id: 1\n"))

        // The client stays connected, reading; the server is asked to stop.
        let stopping = Task { try await running.stop() }
        let stopped = await Self.finishes(stopping, within: .seconds(60))
        #expect(stopped, "the server's shutdown waits for the stream")
        guard stopped else { return }
        // The stream ended cleanly: the client reads its end, not an error.
        while try await chunks.next() != nil {}
        try await stopping.value
    }

    /// A signed `GET` with no body, for `port` on the loopback address.
    static func signedGet(_ path: String, port: Int, keys: PlatformFixture.Keys) throws -> HTTPClientRequest {
        let host = "127.0.0.1:\(port)"
        let signature = Signer().sign(
            SigV4.Request(method: "GET", path: path, headers: [(name: "Host", value: host)]),
            credentials: Credentials(accessKeyId: keys.id, secretAccessKey: keys.secret),
            region: "us-east-1",
            service: "sealed",
            date: Date()
        )
        var request = HTTPClientRequest(url: "http://\(host)\(path)")
        request.method = .GET
        request.headers.add(name: "Host", value: host)
        for header in signature.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        return request
    }

    /// Whether `task` finishes within `limit` (it is left running when it does not).
    static func finishes(_ task: Task<Void, any Error>, within limit: Duration) async -> Bool {
        let decided = Mutex(false)
        return await withCheckedContinuation { continuation in
            let decide: @Sendable (Bool) -> Void = { finished in
                let first = decided.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: finished) }
            }
            Task {
                _ = try? await task.value
                decide(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                decide(false)
            }
        }
    }
}
