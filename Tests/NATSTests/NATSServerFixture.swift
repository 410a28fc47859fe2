import Foundation
import Logging
import SealedTesting
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Logger {
    /// A logger for tests: warnings and worse.
    static let test: Logger = {
        var logger = Logger(label: "nats-tests")
        logger.logLevel = .warning
        return logger
    }()
}

/// A fake NATS server that completes the handshake and then never answers a `PING`, to prove the
/// client's liveness check. Each accepted connection is served on its own thread with blocking sockets.
final class SilentPeer: Sendable {
    let port: Int
    private let listener: Int32
    private let accepted = Mutex(0)

    /// How many connections the peer has accepted.
    var connections: Int { accepted.withLock { $0 } }

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FixtureError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        guard bound == 0, named == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw FixtureError(description: "cannot listen")
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { self.acceptLoop() }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            accepted.withLock { $0 += 1 }
            Thread.detachNewThread { self.serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        let info =
            "INFO {\"server_id\":\"silent\",\"version\":\"0.0.0\",\"proto\":1,\"headers\":true,\"max_payload\":1048576}\r\n"
        guard send(connection, info, info.utf8.count, 0) > 0 else { return }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var answered = false
        while true {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            if answered { continue }  // silent from now on
            received.append(contentsOf: buffer[0..<count])
            if String(decoding: received, as: UTF8.self).contains("PING\r\n") {
                answered = true
                _ = send(connection, "PONG\r\n", 6, 0)
            }
        }
    }
}
