import NIOCore
import SealedTesting
import Testing

@testable import NATS

@Suite struct ProtocolParserTests {
    /// A server stream with every operation, payloads that contain CRLF and protocol words, and headers.
    static let stream: [UInt8] = Array(
        (#"INFO {"server_id":"S1","version":"2.9.10","max_payload":1048576,"headers":true,"auth_required":false}"#
            + "\r\n"
            + "PING\r\nPONG\r\n+OK\r\n-ERR 'Unknown Protocol Operation'\r\n"
            + "MSG foo.bar 9 5\r\nhello\r\n"
            + "MSG foo 1 reply.to 11\r\nMSG x\r\nPING\r\n"
            + "msg lower 2 0\r\n\r\n"
            + "HMSG h.s 3 _INBOX.a 26 31\r\nNATS/1.0\r\nA: b:c\r\nA: 2\r\n\r\nworld\r\n"
            + "HMSG js 4 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
            + "HMSG js 4 28 28\r\nNATS/1.0 404 No Messages\r\n\r\n\r\n").utf8
    )

    static func parseAll(_ bytes: [UInt8], chunk: Int) throws -> [ServerOp] {
        var parser = ProtocolParser()
        var operations: [ServerOp] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            parser.append(bytes[index..<end])
            index = end
            while let operation = try parser.next() { operations.append(operation) }
        }
        return operations
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16, 64, 100_000])
    func parsesAnySplitOfTheStream(chunk: Int) throws {
        let operations = try Self.parseAll(Self.stream, chunk: chunk)
        try #require(operations.count == 11)
        guard case .info(let info) = operations[0] else {
            Issue.record("expected INFO, got \(operations[0])")
            return
        }
        #expect(info.serverID == "S1")
        #expect(info.maxPayload == 1_048_576)
        #expect(info.headers == true)
        #expect(operations[1] == .ping)
        #expect(operations[2] == .pong)
        #expect(operations[3] == .ok)
        #expect(operations[4] == .err("Unknown Protocol Operation"))
        #expect(
            operations[5]
                == .msg(
                    InboundMessage(subject: "foo.bar", sid: 9, replyTo: nil, headers: nil, payload: Array("hello".utf8))
                )
        )
        #expect(
            operations[6]
                == .msg(
                    InboundMessage(
                        subject: "foo",
                        sid: 1,
                        replyTo: "reply.to",
                        headers: nil,
                        payload: Array("MSG x\r\nPING".utf8)
                    )
                )
        )
        #expect(
            operations[7] == .msg(InboundMessage(subject: "lower", sid: 2, replyTo: nil, headers: nil, payload: []))
        )
        guard case .msg(let withHeaders) = operations[8] else {
            Issue.record("expected HMSG")
            return
        }
        #expect(withHeaders.subject == "h.s")
        #expect(withHeaders.replyTo == "_INBOX.a")
        #expect(withHeaders.payload == Array("world".utf8))
        #expect(withHeaders.headers?["A"] == "b:c")
        #expect(withHeaders.headers?.values(for: "a") == ["b:c", "2"])
        #expect(withHeaders.headers?.status == nil)
        guard case .msg(let noResponders) = operations[9] else {
            Issue.record("expected HMSG")
            return
        }
        #expect(noResponders.headers?.status == 503)
        #expect(noResponders.payload.isEmpty)
    }

    @Test func parsesStatusWithDescription() throws {
        let operations = try Self.parseAll(
            Array("HMSG js 4 28 28\r\nNATS/1.0 404 No Messages\r\n\r\n\r\n".utf8),
            chunk: 1
        )
        guard case .msg(let message) = operations.first else {
            Issue.record("expected HMSG")
            return
        }
        #expect(message.headers?.status == 404)
        #expect(message.headers?.statusDescription == "No Messages")
    }

    @Test func incompleteFrameWaitsForMoreBytes() throws {
        var parser = ProtocolParser()
        parser.append(Array("MSG a 1 10\r\n01234".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("56789\r".utf8))
        #expect(try parser.next() == nil)
        parser.append([10])
        #expect(
            try parser.next()
                == .msg(
                    InboundMessage(subject: "a", sid: 1, replyTo: nil, headers: nil, payload: Array("0123456789".utf8))
                )
        )
        #expect(try parser.next() == nil)
    }

    static let malformed: [String] = [
        "FOO bar\r\n",  // unknown operation
        "MSG a\r\n",  // too few arguments
        "MSG a 1 2 3 4\r\n",  // too many arguments
        "MSG a 1 5\r\nhelloXX",  // body not followed by CRLF
        "MSG a 1 -5\r\n",  // negative size
        "MSG a x 1\r\nA\r\n",  // non-numeric sid
        "MSG a 1 99999999999999999999\r\n",  // absurd size
        "MSG a 1 100000000\r\n",  // over the parser's payload limit
        "HMSG a 1 10 5\r\n",  // header size > total size
        "HMSG a 1 5 5\r\nXXXXX\r\n",  // header block without NATS/1.0
        "HMSG a 1 14 14\r\nNATS/1.0\r\nAB\r\n\r\n",  // header block without the final empty line
        "HMSG a 1 21 21\r\nNATS/1.0\r\nnocolon\r\n\r\n\r\n",  // header line without a colon
        "HMSG a 1 16 16\r\nNATS/1.0 5x3\r\n\r\n\r\n",  // non-numeric status
        "INFO {not json\r\n",
        "PING\n",  // bare LF
        String(repeating: "X", count: 70_000),  // control line without end beyond the limit
    ]

    @Test(arguments: malformed)
    func malformedInputIsATypedError(input: String) throws {
        for chunk in [1, 4096] {
            var caught: NATSError?
            do {
                _ = try Self.parseAll(Array(input.utf8), chunk: chunk)
            } catch let error as NATSError {
                caught = error
            }
            #expect(caught?.code == .protocolError, "input \(input.prefix(40).debugDescription) chunk \(chunk)")
        }
    }

    @Test func parserStaysFailedAfterAnError() throws {
        var parser = ProtocolParser()
        parser.append(Array("BOGUS\r\nPING\r\n".utf8))
        #expect(throws: NATSError(.protocolError, "")) { try parser.next() }
        #expect(throws: NATSError(.protocolError, "")) { try parser.next() }
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 64)
            let prefixes = ["MSG ", "HMSG ", "INFO ", "PING", "+OK", "-ERR ", ""]
            var bytes = Array(prefixes[Int(generator.next() % UInt64(prefixes.count))].utf8)
            let alphabet = Array("ab 01234\r\n.NATS/1.0:{}\"".utf8)
            for _ in 0..<length { bytes.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
            var parser = ProtocolParser(maxControlLine: 128, maxPayload: 1024)
            parser.append(bytes)
            do {
                while try parser.next() != nil {}
            } catch {
                #expect(error is NATSError)
            }
        }
    }
}

@Suite struct ProtocolEncoderTests {
    static func encode(
        subject: String,
        replyTo: String? = nil,
        headers: Headers? = nil,
        payload: String,
        maxPayload: Int? = nil
    ) throws -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        try ProtocolEncoder.publish(
            subject: subject,
            replyTo: replyTo,
            headers: headers,
            payload: Array(payload.utf8),
            maxPayload: maxPayload,
            into: &buffer
        )
        return String(buffer: buffer)
    }

    @Test func encodesPubAndHPub() throws {
        #expect(try Self.encode(subject: "a.b", payload: "hi") == "PUB a.b 2\r\nhi\r\n")
        #expect(try Self.encode(subject: "a", replyTo: "r.1", payload: "") == "PUB a r.1 0\r\n\r\n")
        let headers: Headers = ["Nats-Msg-Id": "x1", "K": "v"]
        #expect(
            try Self.encode(subject: "a", headers: headers, payload: "hi")
                == "HPUB a 35 37\r\nNATS/1.0\r\nNats-Msg-Id: x1\r\nK: v\r\n\r\nhi\r\n"
        )
    }

    @Test(arguments: ["", "a b", "a\r\nPUB x 1", "a..b", ".a", "a.", "a\tb"])
    func rejectsInvalidSubjects(subject: String) {
        #expect(throws: NATSError(.invalidArgument, "")) { try Self.encode(subject: subject, payload: "x") }
    }

    @Test func rejectsHeaderInjection() {
        #expect(throws: NATSError(.invalidArgument, "")) {
            try Self.encode(subject: "a", headers: ["K": "v\r\nX: y"], payload: "x")
        }
        #expect(throws: NATSError(.invalidArgument, "")) {
            try Self.encode(subject: "a", headers: ["K:": "v"], payload: "x")
        }
        #expect(throws: NATSError(.invalidArgument, "")) {
            try Self.encode(subject: "a", headers: ["K K": "v"], payload: "x")
        }
    }

    @Test func rejectsOversizedPayload() {
        #expect(throws: NATSError(.maxPayloadExceeded, "")) {
            try Self.encode(subject: "a", payload: "12345", maxPayload: 4)
        }
        #expect(throws: Never.self) { try Self.encode(subject: "a", payload: "1234", maxPayload: 4) }
    }

    @Test func headerBlockRoundTrips() throws {
        var headers: Headers = ["Nats-Msg-Id": "abc", "X": "1"]
        headers.append(name: "X", value: "2 with spaces")
        let block = try headers.encoded()
        let parsed = try Headers.parse(block[...])
        #expect(parsed == headers)
    }
}

@Suite struct ServerAddressTests {
    @Test func parsesAList() throws {
        let servers = try ServerAddress.parseList("nats://h1:4223, nats://h2 ,h3:5000,nats://[::1]:4224")
        #expect(servers.map(\.host) == ["h1", "h2", "h3", "::1"])
        #expect(servers.map(\.port) == [4223, 4222, 5000, 4224])
        #expect(servers.allSatisfy { $0.credentials == nil })
    }

    @Test func parsesUserInfo() throws {
        let withPassword = try ServerAddress(parsing: "nats://alice:p%40ss@127.0.0.1:4222")
        #expect(withPassword.credentials == .userPassword("alice", "p@ss"))
        #expect(withPassword.host == "127.0.0.1")
        let withToken = try ServerAddress(parsing: "nats://s3cr3t@localhost")
        #expect(withToken.credentials == .token("s3cr3t"))
        #expect(withToken.port == 4222)
        let escaped = try ServerAddress(parsing: "nats://%C3%A9t%C3%A9:a%2Bb%3Ac@h")
        #expect(escaped.credentials == .userPassword("été", "a+b:c"))
    }

    @Test func inboxesAreFreshAlphanumericTokens() {
        let inboxes = (0..<64).map { _ in Connection.inbox(prefix: "_INBOX") }
        #expect(Set(inboxes).count == inboxes.count)
        for inbox in inboxes {
            #expect(inbox.hasPrefix("_INBOX."))
            let token = inbox.dropFirst("_INBOX.".count)
            #expect(token.count == 22)
            #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        }
    }

    @Test func descriptionsHideSecrets() throws {
        let address = try ServerAddress(parsing: "nats://alice:hunter2@h:1")
        #expect(!address.description.contains("hunter2"))
        #expect(!String(describing: address.credentials!).contains("hunter2"))
        #expect(!String(describing: Credentials.token("tok123")).contains("tok123"))
    }

    @Test(arguments: [
        "", "tls://h:4222", "ws://h", "nats://h:0", "nats://h:70000", "nats://h:x", "nats://h/path", "nats://:4222",
        "nats://[::1", "nats://a%4:b@h", "nats://%zz@h", "nats://a:%ff@h",
    ])
    func rejectsInvalidURLs(url: String) {
        #expect(throws: NATSError(.invalidArgument, "")) { try ServerAddress.parseList(url) }
    }
}

@Suite struct ReconnectPolicyTests {
    @Test func backoffIsBoundedAndJittered() throws {
        var options = ConnectionOptions()
        options.reconnectDelay = .milliseconds(100)
        options.maxReconnectDelay = .seconds(2)
        let connection = try Connection(servers: [ServerAddress(host: "127.0.0.1")], options: options, logger: .test)
        var seen = Set<Duration>()
        for round in 1...40 {
            let ceiling = min(Duration.milliseconds(100) * (1 << min(round - 1, 20)), .seconds(2))
            let delay = connection.backoffDelay(round: round)
            #expect(delay <= ceiling)
            #expect(delay >= ceiling / 2)
            seen.insert(delay)
        }
        #expect(seen.count > 1)
    }
}
