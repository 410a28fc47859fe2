import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc

    private let systemListen = Glibc.listen
#elseif canImport(Darwin)
    import Darwin

    private let systemListen = Darwin.listen
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for bad-input tests: each request gets whatever the script says, including
/// answers no real server would give (malformed bodies, truncated bodies, no answer at all).
///
/// It runs on its own thread with blocking sockets and closes every connection after one exchange.
final class ScriptedServer: Sendable {
    /// A received request.
    struct Received: Sendable {
        var method: String
        var path: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    /// What to do with one request.
    enum Behavior: Sendable {
        /// A complete response with `Content-Length`.
        case respond(status: Int, headers: [(String, String)] = [], body: [UInt8])
        /// These bytes as they are, then close.
        case raw([UInt8])
        /// Never answer (until the server stops).
        case hang
        /// These bytes, then nothing more (the connection stays open until the server stops).
        case partial([UInt8])

        static func json(_ status: Int, _ text: String) -> Behavior {
            .respond(status: status, headers: [("Content-Type", "application/x-amz-json-1.1")], body: Array(text.utf8))
        }

        static func xml(_ status: Int, _ text: String) -> Behavior {
            .respond(status: status, headers: [("Content-Type", "text/xml")], body: Array(text.utf8))
        }
    }

    let port: Int
    private let listener: Int32
    private let script: @Sendable (Int, Received) -> Behavior
    private let state = Mutex<(requests: [Received], hung: [Int32], stopped: Bool)>(([], [], false))

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var requests: [Received] { state.withLock { $0.requests } }

    /// Starts a server.
    ///
    /// - Parameter script: The behavior for the request with the given index (from 0).
    init(_ script: @escaping @Sendable (Int, Received) -> Behavior) throws {
        let (socket, port) = try Self.listen()
        self.listener = socket
        self.port = port
        self.script = script
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    /// Stops accepting and closes hung connections.
    func stop() {
        let hung = state.withLock { state -> [Int32] in
            state.stopped = true
            defer { state.hung = [] }
            return state.hung
        }
        for descriptor in hung { close(descriptor) }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// A port on which nothing listens (bound, then closed).
    static func closedPort() throws -> Int {
        let (socket, port) = try listen()
        close(socket)
        return port
    }

    private static func listen() throws -> (Int32, Int) {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, systemListen(descriptor, 16) == 0 else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }
            if state.withLock({ $0.stopped }) {
                close(connection)
                return
            }
            Thread { [self] in self.serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        guard let request = Self.read(connection) else {
            close(connection)
            return
        }
        let index = state.withLock { state -> Int in
            state.requests.append(request)
            return state.requests.count - 1
        }
        let behavior = script(index, request)
        switch behavior {
        case .respond(let status, let headers, let body):
            var head = "HTTP/1.1 \(status) \(status < 300 ? "OK" : "Error")\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            Self.write(connection, Array(head.utf8) + body)
            close(connection)
        case .raw(let bytes):
            Self.write(connection, bytes)
            close(connection)
        case .hang, .partial:
            if case .partial(let bytes) = behavior { Self.write(connection, bytes) }
            let closeNow = state.withLock { state -> Bool in
                if state.stopped { return true }
                state.hung.append(connection)
                return false
            }
            if closeNow { close(connection) }
        }
    }

    private static func read(_ connection: Int32) -> Received? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int? = nil
        var contentLength = 0
        while true {
            if let end = headerEnd, buffer.count >= end + contentLength { break }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<count])
            if headerEnd == nil, let range = find(Array("\r\n\r\n".utf8), in: buffer) {
                headerEnd = range + 4
                let head = String(decoding: buffer[0..<range], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
        }
        guard let end = headerEnd else { return nil }
        let head = String(decoding: buffer[0..<(end - 4)], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (name: String(parts[0]), value: parts[1].trimmingCharacters(in: .whitespaces))
        }
        return Received(
            method: requestLine.count > 0 ? String(requestLine[0]) : "",
            path: requestLine.count > 1 ? String(requestLine[1]) : "",
            headers: headers,
            body: Array(buffer[end..<(end + contentLength)])
        )
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    private static func write(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return }
            offset += written
        }
    }
}
