import Foundation
import NIOCore

/// Builds the client side of the protocol and checks what goes into a control line, so no argument can
/// break a line or forge another operation.
enum ProtocolEncoder {
    static let crlf: [UInt8] = [13, 10]

    /// Checks a subject for `PUB`/`SUB`: non-empty, no spaces or control characters, no empty tokens.
    static func validateSubject(_ subject: String, what: String = "subject") throws {
        let bytes = Array(subject.utf8)
        guard !bytes.isEmpty else { throw NATSError.invalidArgument("empty \(what)") }
        guard bytes.allSatisfy({ $0 > 32 && $0 != 127 }) else {
            throw NATSError.invalidArgument("\(what) holds whitespace or control characters")
        }
        guard bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: "."),
            !zip(bytes, bytes.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
        else { throw NATSError.invalidArgument("\(what) has an empty token") }
    }

    /// Checks a queue group name: non-empty, no spaces or control characters.
    static func validateQueue(_ queue: String) throws {
        let bytes = Array(queue.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 > 32 && $0 != 127 }) else {
            throw NATSError.invalidArgument("invalid queue group name")
        }
    }

    /// `PUB subject [reply] size\r\npayload\r\n`, or `HPUB` when there are headers.
    static func publish(
        subject: String,
        replyTo: String?,
        headers: Headers?,
        payload: [UInt8],
        maxPayload: Int?,
        into buffer: inout ByteBuffer
    ) throws {
        try validateSubject(subject)
        if let replyTo { try validateSubject(replyTo, what: "reply subject") }
        let headerBytes = try headers.flatMap { $0.fields.isEmpty && $0.status == nil ? nil : try $0.encoded() }
        let total = (headerBytes?.count ?? 0) + payload.count
        if let maxPayload, total > maxPayload {
            throw NATSError(
                .maxPayloadExceeded,
                "message of \(total) bytes exceeds the server's max_payload \(maxPayload)"
            )
        }
        var line = headerBytes == nil ? "PUB " : "HPUB "
        line += subject
        if let replyTo { line += " " + replyTo }
        if let headerBytes { line += " \(headerBytes.count)" }
        line += " \(total)\r\n"
        buffer.writeString(line)
        if let headerBytes { buffer.writeBytes(headerBytes) }
        buffer.writeBytes(payload)
        buffer.writeBytes(crlf)
    }

    /// `SUB subject [queue] sid\r\n`.
    static func subscribe(subject: String, queue: String?, sid: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeString("SUB \(subject)\(queue.map { " " + $0 } ?? "") \(sid)\r\n")
    }

    /// `UNSUB sid\r\n`.
    static func unsubscribe(sid: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeString("UNSUB \(sid)\r\n")
    }

    /// `CONNECT {json}\r\n`; credentials only when the server asked for authentication.
    static func connect(
        info: ServerInfo,
        credentials: Credentials?,
        name: String?,
        into buffer: inout ByteBuffer
    ) throws {
        var payload = ConnectPayload(name: name)
        if info.authRequired == true, let credentials {
            switch credentials.kind {
            case .userPassword(let user, let password):
                payload.user = user
                payload.pass = password
            case .token(let token):
                payload.authToken = token
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = try encoder.encode(payload)
        buffer.writeString("CONNECT ")
        buffer.writeBytes(json)
        buffer.writeBytes(crlf)
    }

    static func ping(into buffer: inout ByteBuffer) { buffer.writeString("PING\r\n") }
    static func pong(into buffer: inout ByteBuffer) { buffer.writeString("PONG\r\n") }
}

/// The `CONNECT` options. The password and token live only in this value on the way to the socket.
private struct ConnectPayload: Encodable {
    var verbose = false
    var pedantic = false
    var tlsRequired = false
    var name: String?
    var lang = "swift"
    var version = "0.1.0"
    var `protocol` = 1
    var headers = true
    var noResponders = true
    var echo = true
    var user: String?
    var pass: String?
    var authToken: String?

    enum CodingKeys: String, CodingKey {
        case verbose, pedantic, name, lang, version, `protocol`, headers, echo, user, pass
        case tlsRequired = "tls_required"
        case noResponders = "no_responders"
        case authToken = "auth_token"
    }
}
