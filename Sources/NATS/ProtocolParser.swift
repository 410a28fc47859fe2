import Foundation

/// One operation the server sent.
enum ServerOp: Sendable, Equatable {
    case info(ServerInfo)
    case msg(InboundMessage)
    case ping
    case pong
    case ok
    case err(String)
}

/// A `MSG` or `HMSG` as parsed, before it is routed to a subscription.
struct InboundMessage: Sendable, Equatable {
    var subject: String
    var sid: UInt64
    var replyTo: String?
    var headers: Headers?
    var payload: [UInt8]

    var message: Message { Message(subject: subject, replyTo: replyTo, headers: headers, payload: payload) }
}

/// A streaming parser of the server side of the NATS client protocol.
///
/// Feed it bytes as they arrive with ``append(_:)`` (any split: byte by byte, or frames spanning reads)
/// and take complete operations with ``next()`` until it returns `nil`. Malformed input throws a
/// ``NATSError`` with code ``NATSError/Code/protocolError``; after that the parser stays failed, and the
/// connection must be dropped. Limits: a control line longer than `maxControlLine` bytes and a message
/// body longer than `maxPayload` bytes are errors, so a hostile peer cannot make it buffer without bound.
struct ProtocolParser {
    private enum Stage {
        case controlLine
        case body(subject: String, sid: UInt64, replyTo: String?, headerLength: Int, totalLength: Int)
        case failed(NATSError)
    }

    let maxControlLine: Int
    let maxPayload: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the CRLF search resumes, so byte-at-a-time input does not rescan the line.
    private var scanIndex = 0
    private var stage = Stage.controlLine

    init(maxControlLine: Int = 64 * 1024, maxPayload: Int = 64 * 1024 * 1024) {
        self.maxControlLine = maxControlLine
        self.maxPayload = maxPayload
    }

    /// Adds received bytes.
    mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete operation, or `nil` when more bytes are needed.
    ///
    /// - Throws: ``NATSError/Code/protocolError`` on malformed input (and on every later call).
    mutating func next() throws -> ServerOp? {
        do {
            switch stage {
            case .failed(let error):
                throw error
            case .body(let subject, let sid, let replyTo, let headerLength, let totalLength):
                return try parseBody(subject, sid, replyTo, headerLength, totalLength)
            case .controlLine:
                return try parseControlLine()
            }
        } catch let error as NATSError {
            stage = .failed(error)
            throw error
        }
    }

    private mutating func parseControlLine() throws -> ServerOp? {
        var index = max(scanIndex, readIndex)
        var lineEnd: Int?
        while index < buffer.count {
            if buffer[index] == 10 {
                guard index > readIndex, buffer[index - 1] == 13 else {
                    throw NATSError.protocolError("control line ends with a bare LF")
                }
                lineEnd = index - 1
                break
            }
            index += 1
        }
        guard let lineEnd else {
            scanIndex = buffer.count
            if buffer.count - readIndex > maxControlLine {
                throw NATSError.protocolError("control line longer than \(maxControlLine) bytes")
            }
            return nil
        }
        guard lineEnd - readIndex <= maxControlLine else {
            throw NATSError.protocolError("control line longer than \(maxControlLine) bytes")
        }
        let line = buffer[readIndex..<lineEnd]
        readIndex = lineEnd + 2
        scanIndex = readIndex
        return try parseOperation(line)
    }

    private mutating func parseOperation(_ line: ArraySlice<UInt8>) throws -> ServerOp? {
        let nameEnd = line.firstIndex(where: { $0 == 32 || $0 == 9 }) ?? line.endIndex
        let name = String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self).uppercased()
        let arguments = line[nameEnd...]
        switch name {
        case "PING":
            return .ping
        case "PONG":
            return .pong
        case "+OK":
            return .ok
        case "-ERR":
            var text = String(decoding: arguments, as: UTF8.self).trimmingASCIISpaces()
            if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") { text = String(text.dropFirst().dropLast()) }
            return .err(text)
        case "INFO":
            do {
                return .info(try JSONDecoder().decode(ServerInfo.self, from: Data(arguments)))
            } catch {
                throw NATSError.protocolError("INFO is not valid JSON")
            }
        case "MSG":
            let fields = Self.split(arguments)
            guard fields.count == 3 || fields.count == 4 else {
                throw NATSError.protocolError("MSG needs 3 or 4 arguments")
            }
            let total = try Self.size(fields[fields.count - 1])
            let replyTo = fields.count == 4 ? String(decoding: fields[2], as: UTF8.self) : nil
            return try startBody(fields[0], fields[1], replyTo, headerLength: 0, totalLength: total)
        case "HMSG":
            let fields = Self.split(arguments)
            guard fields.count == 4 || fields.count == 5 else {
                throw NATSError.protocolError("HMSG needs 4 or 5 arguments")
            }
            let headerLength = try Self.size(fields[fields.count - 2])
            let total = try Self.size(fields[fields.count - 1])
            guard headerLength <= total else { throw NATSError.protocolError("HMSG header size exceeds total size") }
            let replyTo = fields.count == 5 ? String(decoding: fields[2], as: UTF8.self) : nil
            return try startBody(fields[0], fields[1], replyTo, headerLength: headerLength, totalLength: total)
        default:
            throw NATSError.protocolError("unknown protocol operation")
        }
    }

    private mutating func startBody(
        _ subjectBytes: ArraySlice<UInt8>,
        _ sidBytes: ArraySlice<UInt8>,
        _ replyTo: String?,
        headerLength: Int,
        totalLength: Int
    ) throws -> ServerOp? {
        guard totalLength <= maxPayload else {
            throw NATSError.protocolError("message larger than \(maxPayload) bytes")
        }
        guard let sid = UInt64(String(decoding: sidBytes, as: UTF8.self)) else {
            throw NATSError.protocolError("invalid subscription id")
        }
        let subject = String(decoding: subjectBytes, as: UTF8.self)
        stage = .body(
            subject: subject,
            sid: sid,
            replyTo: replyTo,
            headerLength: headerLength,
            totalLength: totalLength
        )
        return try parseBody(subject, sid, replyTo, headerLength, totalLength)
    }

    private mutating func parseBody(
        _ subject: String,
        _ sid: UInt64,
        _ replyTo: String?,
        _ headerLength: Int,
        _ totalLength: Int
    ) throws -> ServerOp? {
        guard buffer.count - readIndex >= totalLength + 2 else { return nil }
        let bodyEnd = readIndex + totalLength
        guard buffer[bodyEnd] == 13, buffer[bodyEnd + 1] == 10 else {
            throw NATSError.protocolError("message body not followed by CRLF")
        }
        var headers: Headers?
        if headerLength > 0 {
            headers = try Headers.parse(buffer[readIndex..<(readIndex + headerLength)])
        }
        let payload = Array(buffer[(readIndex + headerLength)..<bodyEnd])
        readIndex = bodyEnd + 2
        scanIndex = readIndex
        stage = .controlLine
        return .msg(InboundMessage(subject: subject, sid: sid, replyTo: replyTo, headers: headers, payload: payload))
    }

    private static func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        bytes.split(whereSeparator: { $0 == 32 || $0 == 9 })
    }

    private static func size(_ bytes: ArraySlice<UInt8>) throws -> Int {
        guard !bytes.isEmpty, bytes.count <= 12, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let value = Int(String(decoding: bytes, as: UTF8.self))
        else { throw NATSError.protocolError("invalid size field") }
        return value
    }
}
