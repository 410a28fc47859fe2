import Foundation
import NIOCore
import NIOPosix
import SealedServerTesting
import Synchronization
import Testing

/// Requests whose HTTP/1.1 framing is broken, sent byte for byte on a raw socket to a live server: each gets a 4xx
/// (with the usual JSON error shape when the server answers one) or a closed connection, never a 5xx.
@Suite struct HTTPFramingTests {
    /// A signed-looking request head (the body is read before the signature is checked).
    static let signedHead =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
        + "X-Amz-Target: TrentService.ListKeys\r\nX-Amz-Date: 20261204T000000Z\r\n"
        + "Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261204/us-east-1/kms/aws4_request, "
        + "SignedHeaders=host;x-amz-date, Signature=0000\r\n"

    /// What the server answered on one connection: every byte until it closed the connection or 5 s passed.
    struct Answer {
        var text: String
        var closed: Bool

        /// The status codes of the responses in it.
        var statuses: [Int] {
            text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
        }
    }

    /// The bytes received so far, shared with the reading task.
    final class Received: Sendable {
        let text = Mutex("")
    }

    /// Sends `bytes` on a new connection and collects the answer.
    static func exchange(_ bytes: String, port: Int) async throws -> Answer {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            do {
                try await outbound.write(ByteBuffer(string: bytes))
            } catch {
                // The server closed the connection before the bytes were written (a loaded machine can take longer
                // than a short idle timeout to get there): closed, with nothing said.
                return Answer(text: "", closed: true)
            }
            let received = Received()
            let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await Task.sleep(for: .seconds(5))
                    return false
                }
                group.addTask {
                    do {
                        for try await chunk in inbound { received.text.withLock { $0 += String(buffer: chunk) } }
                    } catch {
                        // A reset is a close too.
                    }
                    return true
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            return Answer(text: received.text.withLock { $0 }, closed: closed)
        }
    }

    @Test func aChunkSizeThatIsNotHexIsA400WithTheErrorShape() async throws {
        try await withLiveServer(try Fixture(port: 0).server, logger: Fixture.logger) { port in
            let answer = try await Self.exchange(
                Self.signedHead + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
                port: port
            )
            #expect(answer.statuses == [400], "\(answer.text)")
            #expect(answer.text.contains(#""__type":"SerializationException""#), "\(answer.text)")
        }
    }

    /// A body that announces more than it sends holds its connection only until the idle timeout (1 s here), then the
    /// server closes it: a slow client cannot keep a connection slot.
    @Test func aBodyThatStopsComingIsClosedAtTheIdleTimeout() async throws {
        try await withLiveServer(try Fixture(port: 0, idleTimeout: .seconds(1)).server, logger: Fixture.logger) {
            port in
            let answer = try await Self.exchange(
                Self.signedHead + "Transfer-Encoding: chunked\r\n\r\nFFFFFF\r\nabc",
                port: port
            )
            #expect(answer.closed, "the connection is still open after 5 s: \(answer.text)")
            #expect(answer.statuses.allSatisfy { $0 < 500 }, "\(answer.text)")
        }
    }

    @Test func otherFramingErrorsAreNever5xx() async throws {
        try await withLiveServer(try Fixture(port: 0).server, logger: Fixture.logger) { port in
            let cases = [
                // A Content-Length that is not a number.
                Self.signedHead + "Content-Length: abc\r\n\r\n",
                // Two different Content-Lengths.
                Self.signedHead + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
                // A chunk longer than it says, then garbage.
                Self.signedHead + "Transfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n",
                // Garbage pipelined after a complete request.
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n\u{1}\u{2}garbage\r\n\r\n",
                // A header field of 100 KB (the limit is 80 KB).
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n",
                // 1,500 header fields (the limit is 1,000).
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + (0..<1500).map { "X-\($0): v\r\n" }.joined() + "\r\n",
                // A request line that is not HTTP.
                "HELLO\r\n\r\n",
            ]
            for request in cases {
                let answer = try await Self.exchange(request, port: port)
                #expect(answer.statuses.allSatisfy { $0 < 500 }, "\(request.debugDescription) → \(answer.text)")
                // Answered, or the connection closed: never a connection left waiting with nothing said.
                #expect(!answer.statuses.isEmpty || answer.closed, "\(request.debugDescription)")
            }
        }
    }

    /// Slow-loris: a head sent a byte every 200 ms resets the idle timeout (30 s here) with every byte, but is closed at
    /// the header timeout (1 s) without an answer, long before its 100 bytes are sent; a head sent at once on another
    /// connection is answered.
    @Test func aHeadTrickledByteByByteIsClosedAtTheHeaderTimeout() async throws {
        let fixture = try Fixture(port: 0, idleTimeout: .seconds(30), headerTimeout: .seconds(1))
        try await withLiveServer(fixture.server, logger: Fixture.logger) { port in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let start = ContinuousClock.now
            let (sent, answer) = try await channel.executeThenClose { inbound, outbound in
                let reader = Task {
                    var text = ""
                    do {
                        for try await chunk in inbound { text += String(buffer: chunk) }
                    } catch {
                        // A reset is a close too.
                    }
                    return text
                }
                var sent = 0
                let head = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + String(repeating: "a", count: 100)
                for byte in head.utf8 {
                    do {
                        try await outbound.write(ByteBuffer(bytes: [byte]))
                    } catch {
                        break  // closed by the server
                    }
                    sent += 1
                    try await Task.sleep(for: .milliseconds(200))
                    if ContinuousClock.now - start > .seconds(20) { break }
                }
                return (sent, await reader.value)
            }
            #expect(answer.isEmpty, "a trickled head was answered: \(answer)")
            #expect(sent < 100, "the server kept reading a head for \(sent) bytes at 5 a second")
            let normal = try await Self.exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", port: port)
            #expect(normal.statuses == [200], "\(normal.text)")
        }
    }
}
