import Foundation
import SealedTesting
import Synchronization
import Testing

@testable import NATS

@Suite struct CoreProtocolTests {
    @Test func publishSubscribeWithWildcards() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                #expect(connection.serverInfo?.headers == true)
                try await connection.subscribe(to: "greet.*") { subscription in
                    try await connection.flush()
                    for index in 0..<3 {
                        try await connection.publish(subject: "greet.\(index)", payload: "hello \(index)".bytes)
                    }
                    try await connection.publish(subject: "other", payload: "not for us".bytes)
                    let messages = try await take(3, from: subscription)
                    #expect(messages.map(\.subject) == ["greet.0", "greet.1", "greet.2"])
                    #expect(messages.map(\.payload.text) == ["hello 0", "hello 1", "hello 2"])
                    #expect(messages.allSatisfy { $0.headers == nil })
                }
            }
        }
    }

    @Test func headersRoundTrip() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                try await connection.subscribe(to: "h") { subscription in
                    try await connection.flush()
                    var headers: Headers = ["Nats-Msg-Id": "id-1", "X-Multi": "a"]
                    headers.append(name: "X-Multi", value: "b: with colon")
                    try await connection.publish(subject: "h", payload: "body".bytes, headers: headers)
                    try await connection.publish(subject: "h", payload: [], headers: ["Only": "header"])
                    let messages = try await take(2, from: subscription)
                    #expect(messages[0].headers == headers)
                    #expect(messages[0].headers?.values(for: "x-multi") == ["a", "b: with colon"])
                    #expect(messages[0].payload.text == "body")
                    #expect(messages[1].headers?["Only"] == "header")
                    #expect(messages[1].payload.isEmpty)
                }
            }
        }
    }

    @Test func requestReplyAcrossConnections() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { responder in
                try await responder.subscribe(to: "svc.echo", queue: "workers") { requests in
                    try await responder.flush()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await request in requests {
                                guard let replyTo = request.replyTo else { continue }
                                var headers = request.headers ?? Headers()
                                headers["Handled-By"] = "responder"
                                try await responder.publish(
                                    subject: replyTo,
                                    payload: Array(request.payload.reversed()),
                                    headers: headers
                                )
                            }
                        }
                        try await Connection.withConnection(to: server.url, logger: .test) { client in
                            // Concurrent requests share the muxed reply subscription.
                            let replies = try await withThrowingTaskGroup(of: (Int, Message).self) { requests in
                                for index in 0..<20 {
                                    requests.addTask {
                                        // A wide timeout: the test runs beside hundreds of others on two
                                        // cores, and the responder may wait seconds for a thread.
                                        let reply = try await client.request(
                                            subject: "svc.echo",
                                            payload: "abc\(index)".bytes,
                                            headers: ["Trace": "t\(index)"],
                                            timeout: .seconds(60)
                                        )
                                        return (index, reply)
                                    }
                                }
                                return try await requests.reduce(into: [:]) { $0[$1.0] = $1.1 }
                            }
                            #expect(replies.count == 20)
                            for (index, reply) in replies {
                                #expect(reply.payload.text == String("abc\(index)".reversed()))
                                #expect(reply.headers?["Trace"] == "t\(index)")
                                #expect(reply.headers?["Handled-By"] == "responder")
                            }
                        }
                        group.cancelAll()
                    }
                }
            }
        }
    }

    @Test func requestWithoutRespondersFailsFast() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                await #expect(throws: NATSError(.noResponders, "")) {
                    _ = try await connection.request(subject: "nobody.home", payload: [], timeout: .seconds(30))
                }
                try await connection.flush()
            }
        }
    }

    @Test func requestTimesOutWhenNobodyAnswers() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                try await connection.subscribe(to: "silent") { _ in
                    try await connection.flush()
                    await #expect(throws: NATSError(.timeout, "")) {
                        _ = try await connection.request(subject: "silent", payload: [], timeout: .milliseconds(200))
                    }
                }
                // The connection is still fine afterwards.
                try await connection.flush()
            }
        }
    }

    @Test func oversizedPayloadIsRefusedBeforeSending() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                let limit = try #require(connection.serverInfo?.maxPayload)
                await #expect(throws: NATSError(.maxPayloadExceeded, "")) {
                    try await connection.publish(subject: "big", payload: [UInt8](repeating: 1, count: limit + 1))
                }
                try await connection.flush()
                #expect(connection.connectionEpoch == 1)
            }
        }
    }

    @Test func invalidSubjectIsRefused() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                await #expect(throws: NATSError(.invalidArgument, "")) {
                    try await connection.publish(subject: "a b\r\nPUB x 1", payload: [])
                }
                await #expect(throws: NATSError(.invalidArgument, "")) {
                    try await connection.subscribe(to: "a..b") { _ in }
                }
                try await connection.flush()
            }
        }
    }

    @Test func answersServerPings() async throws {
        // The server pings every 200 ms and drops a client after 5 unanswered pings: a second of tolerance, so that a
        // loaded machine does not pass for a client that never answers (the test waits for seven pings or more).
        guard let binary = try NATSServer.binary() else { return }
        let directory = try NATSServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("ping.conf")
        try "ping_interval: \"200ms\"\nping_max: 5\n".write(to: config, atomically: true, encoding: .utf8)
        let server = try NATSServer(binary: binary, arguments: ["-c", config.path])
        defer { server.kill() }
        try await Connection.withConnection(to: server.url, logger: .test) { connection in
            try await Task.sleep(for: .seconds(1.5))
            try await connection.flush()
            #expect(connection.connectionEpoch == 1)
            #expect(!server.log().contains("Stale Client Connection"))
        }
    }

    @Test func pingsAnIdleServer() async throws {
        try await withServer { server in
            var options = ConnectionOptions()
            options.pingInterval = .milliseconds(50)
            try await Connection.withConnection(to: server.url, options: options, logger: .test) { connection in
                try await Task.sleep(for: .milliseconds(600))
                // Ten or so pings went out and were answered; the connection was never judged stale.
                #expect(connection.connectionEpoch == 1)
                try await connection.flush()
            }
        }
    }

    @Test func dropsAServerThatStopsAnsweringPings() async throws {
        let peer = try SilentPeer()
        defer { peer.stop() }
        var options = ConnectionOptions()
        options.pingInterval = .milliseconds(50)
        options.maxPingsOutstanding = 2
        let connection = try Connection(urls: "nats://127.0.0.1:\(peer.port)", options: options, logger: .test)
        try await connection.withRunning { connection in
            // The peer completes the handshake and then ignores PINGs: the client must give up on it and
            // reconnect, which the peer sees as a second connection.
            try await eventually("a reconnect after unanswered pings") { peer.connections >= 2 }
            #expect(connection.connectionEpoch >= 2)
        }
    }
}

@Suite struct AuthenticationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var serverArguments: [String]
        var credentials: Credentials?
        var userInfo: String?
        var expected: NATSError.Code?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "user/password",
            serverArguments: ["--user", "alice", "--pass", "s3cret"],
            credentials: .userPassword("alice", "s3cret")
        ),
        Case(
            name: "user/password in URL",
            serverArguments: ["--user", "alice", "--pass", "s3cret"],
            userInfo: "alice:s3cret"
        ),
        Case(name: "token", serverArguments: ["--auth", "t0k3n"], credentials: .token("t0k3n")),
        Case(name: "token in URL", serverArguments: ["--auth", "t0k3n"], userInfo: "t0k3n"),
        Case(
            name: "wrong password",
            serverArguments: ["--user", "alice", "--pass", "s3cret"],
            credentials: .userPassword("alice", "wrong"),
            expected: .authorizationViolation
        ),
        Case(
            name: "no credentials",
            serverArguments: ["--user", "alice", "--pass", "s3cret"],
            expected: .authorizationViolation
        ),
        Case(
            name: "wrong token",
            serverArguments: ["--auth", "t0k3n"],
            credentials: .token("nope"),
            expected: .authorizationViolation
        ),
    ]

    @Test(arguments: cases)
    func authenticates(_ testCase: Case) async throws {
        try await withServer(arguments: testCase.serverArguments) { server in
            let url = testCase.userInfo.map { "nats://\($0)@127.0.0.1:\(server.port)" } ?? server.url
            let options = ConnectionOptions(credentials: testCase.credentials)
            if let expected = testCase.expected {
                var caught: NATSError?
                do {
                    try await Connection.withConnection(to: url, options: options, logger: .test) { _ in }
                } catch let error as NATSError {
                    caught = error
                }
                #expect(caught?.code == expected)
                #expect(caught.map { !$0.description.contains("wrong") && !$0.description.contains("nope") } ?? false)
            } else {
                try await Connection.withConnection(to: url, options: options, logger: .test) { connection in
                    try await connection.subscribe(to: "auth.check") { subscription in
                        try await connection.flush()
                        try await connection.publish(subject: "auth.check", payload: "ok".bytes)
                        #expect(try await take(1, from: subscription).first?.payload.text == "ok")
                    }
                }
            }
        }
    }
}

@Suite struct ReconnectTests {
    @Test func resubscribesAfterServerRestart() async throws {
        try await withServer { server in
            var options = ConnectionOptions()
            options.reconnectDelay = .milliseconds(20)
            options.maxReconnectDelay = .milliseconds(200)
            try await Connection.withConnection(to: server.url, options: options, logger: .test) { connection in
                try await connection.subscribe(to: "events.>") { subscription in
                    try await connection.flush()
                    try await connection.publish(subject: "events.a", payload: "before".bytes)
                    #expect(try await take(1, from: subscription).first?.payload.text == "before")

                    server.stop()
                    try await eventually("the client notices the drop") { !connection.isConnected }
                    // Between connections nothing can be sent, and the caller is told so.
                    await #expect(throws: NATSError(.notConnected, "")) {
                        try await connection.publish(subject: "events.b", payload: "lost".bytes)
                    }
                    try server.start()
                    try await eventually("the client reconnects") { connection.isConnected }
                    #expect(connection.connectionEpoch >= 2)

                    try await Connection.withConnection(to: server.url, logger: .test) { other in
                        try await other.publish(subject: "events.c", payload: "after".bytes)
                        try await other.flush()
                    }
                    #expect(try await take(1, from: subscription).first?.payload.text == "after")
                }
            }
        }
    }

    @Test func requestInFlightFailsWhenTheConnectionDrops() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                try await connection.subscribe(to: "never.answers") { _ in
                    try await connection.flush()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            await #expect(throws: NATSError(.connectionLost, "")) {
                                _ = try await connection.request(
                                    subject: "never.answers",
                                    payload: [],
                                    timeout: .seconds(60)
                                )
                            }
                        }
                        // Let the request reach the server, then crash the server under it.
                        try await eventually("the request is registered") {
                            connection.state.withLock { !$0.requests.isEmpty }
                        }
                        try await connection.flush()
                        server.kill()
                        try await group.waitForAll()
                    }
                }
            }
        }
    }

    @Test func firstConnectFailsWithATypedErrorWhenNoServerListens() async throws {
        try await NATSServer.withRefusingPort { port in
            await #expect(throws: NATSError(.connectionFailed, "")) {
                try await Connection.withConnection(
                    to: "nats://127.0.0.1:\(port),nats://127.0.0.1:\(port)",
                    logger: .test
                ) { _ in }
            }
        }
    }

    @Test func failsOverToTheNextServerInTheList() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let first = try NATSServer(binary: binary)
        let second = try NATSServer(binary: binary)
        defer {
            first.kill()
            second.kill()
        }
        var options = ConnectionOptions()
        options.discoverServers = false
        try await Connection.withConnection(to: "\(first.url),\(second.url)", options: options, logger: .test) {
            connection in
            try await connection.subscribe(to: "x") { subscription in
                try await connection.flush()
                first.kill()
                try await eventually("the client moves to the second server") {
                    connection.isConnected && connection.connectionEpoch >= 2
                }
                try await connection.publish(subject: "x", payload: "on second".bytes)
                #expect(try await take(1, from: subscription).first?.payload.text == "on second")
            }
        }
    }
}
