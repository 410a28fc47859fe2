import Foundation
import Testing

@testable import NATS

/// The connection's transitions without sockets: channels, inboxes and waiters are plain names.
typealias Machine = ConnectionStateMachine<String, String, String>

private let serverA = ServerAddress(host: "a")
private let serverB = ServerAddress(host: "b")
private let info = try! JSONDecoder().decode(
    ServerInfo.self,
    from: Data(#"{"server_id":"S","version":"2.10.0","max_payload":1024}"#.utf8)
)
private let tlsInfo = try! JSONDecoder().decode(
    ServerInfo.self,
    from: Data(#"{"server_id":"S","version":"2.10.0","max_payload":1024,"tls_required":true}"#.utf8)
)
private let lost = NATSError(.connectionLost, "")
private let closing = NATSError(.connectionClosed, "")
private let refused = NATSError(.connectionFailed, "")
private let garbage = NATSError(.protocolError, "")

/// A machine in a named state, reached by events only.
enum Fixture: String, Sendable, CustomTestStringConvertible {
    case idle, started, connecting, active, handshaking, connected, busy, stale
    case secondFirstAttempt, reconnecting, reconnectingAgain, limited, backingOff, closing, closed, closedBeforeRun

    var testDescription: String { rawValue }

    var machine: Machine {
        var options = ConnectionOptions()
        if self == .limited { options.maxReconnectAttempts = 1 }
        var machine = Machine(servers: [serverA, serverB], options: options, replyPrefix: "_INBOX.t")
        switch self {
        case .idle: break
        case .closedBeforeRun: _ = machine.requestClose(waiter: nil)
        case .started: _ = machine.start()
        case .secondFirstAttempt:
            _ = machine.start()
            _ = machine.nextAttempt(waiter: "attempt1")
            _ = machine.attemptFailed(refused)
            _ = machine.nextAttempt(waiter: "attempt2")
        default:
            _ = machine.start()
            _ = machine.nextAttempt(waiter: "attempt1")
            guard self != .connecting else { break }
            _ = machine.channelActive("c1", epoch: 1)
            guard self != .active else { break }
            _ = machine.received(.info(info), epoch: 1)
            guard self != .handshaking else { break }
            _ = machine.received(.pong, epoch: 1)
            switch self {
            case .busy, .closing, .closed:
                _ = machine.openInbox("r1")
                _ = try! machine.flush("f1")
                _ = try! machine.subscribe(subject: "s", queue: nil, inbox: "s1")
                guard self != .busy else { break }
                _ = machine.requestClose(waiter: "close1")
                guard self != .closing else { break }
                _ = machine.nextAttempt(waiter: "attempt2")
            case .stale:
                _ = machine.pingTimerFired(epoch: 1)
                _ = machine.pingTimerFired(epoch: 1)
            case .reconnecting, .reconnectingAgain, .limited, .backingOff:
                _ = machine.channelClosed(epoch: 1)
                _ = machine.nextAttempt(waiter: "attempt2")
                guard self != .reconnecting, self != .limited else { break }
                _ = machine.attemptFailed(refused)
                _ = machine.nextAttempt(waiter: "attempt3")
                guard self != .reconnectingAgain else { break }
                _ = machine.attemptFailed(refused)
                _ = machine.backoffStarted(wakeup: "wake")
            default: break
            }
        }
        return machine
    }
}

/// An event, as the connection's run loop, channel or callers deliver it.
enum Event: Sendable {
    case start
    case nextAttempt(String, cancelled: Bool = false)
    case attemptFailed(NATSError)
    case channelActive(String, epoch: UInt64)
    case received(ServerOp, epoch: UInt64)
    case channelClosed(epoch: UInt64)
    case channelFailed(NATSError, epoch: UInt64)
    case pingTimer(epoch: UInt64)
    case requestClose(String?)

    /// Short enough for a test name (an `INFO` prints as its operation name only).
    var name: String {
        if case .received(.info, let epoch) = self { return "received(INFO, epoch: \(epoch))" }
        return String(describing: self)
    }

    func apply(to machine: inout Machine) -> Machine.Action {
        switch self {
        case .start: machine.start()
        case .nextAttempt(let waiter, let cancelled): machine.nextAttempt(waiter: waiter, cancelled: cancelled)
        case .attemptFailed(let error): machine.attemptFailed(error)
        case .channelActive(let channel, let epoch): machine.channelActive(channel, epoch: epoch)
        case .received(let operation, let epoch): machine.received(operation, epoch: epoch)
        case .channelClosed(let epoch): machine.channelClosed(epoch: epoch)
        case .channelFailed(let error, let epoch): machine.channelFailed(error, epoch: epoch)
        case .pingTimer(let epoch): machine.pingTimerFired(epoch: epoch)
        case .requestClose(let waiter): machine.requestClose(waiter: waiter)
        }
    }
}

/// One row: in `state`, `event` gives `action` and leads to `next`.
struct Transition: Sendable, CustomTestStringConvertible {
    var state: Fixture
    var event: Event
    var action: Machine.Action
    var next: Machine.State

    var testDescription: String { "\(state) + \(event.name)" }
}

private func attempt(
    _ epoch: UInt64,
    _ server: ServerAddress,
    _ waiter: String,
    _ channel: String? = nil
)
    -> Machine.Attempt
{
    Machine.Attempt(epoch: epoch, server: server, waiter: waiter, channel: channel)
}

private let link = Machine.Link(epoch: 1, channel: "c1")
private let replies = Machine.Resubscription(sid: 1, subject: "_INBOX.t.*", queue: nil)

@Suite struct ConnectionStateMachineTests {
    static let reconnect: [Transition] = [
        Transition(
            state: .started,
            event: .nextAttempt("w"),
            action: .connect(serverA, epoch: 1),
            next: .connecting(attempt(1, serverA, "w"))
        ),
        Transition(
            state: .connecting,
            event: .channelActive("c1", epoch: 1),
            action: .none,
            next: .connecting(attempt(1, serverA, "attempt1", "c1"))
        ),
        Transition(
            state: .connecting,
            event: .channelActive("old", epoch: 0),
            action: .closeChannel("old"),
            next: .connecting(attempt(1, serverA, "attempt1"))
        ),
        Transition(
            state: .active,
            event: .received(.pong, epoch: 1),
            action: .drop(Machine.Loss(channel: "c1", attempt: "attempt1", error: garbage)),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .active,
            event: .received(.info(info), epoch: 1),
            action: .sendConnect("c1", info, serverA, [replies]),
            next: .handshaking(attempt(1, serverA, "attempt1", "c1"), channel: "c1")
        ),
        Transition(
            state: .active,
            event: .received(.info(tlsInfo), epoch: 1),
            action: .drop(Machine.Loss(channel: "c1", attempt: "attempt1", error: refused)),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .handshaking,
            event: .received(.pong, epoch: 1),
            action: .resume(["attempt1"]),
            next: .connected(link)
        ),
        Transition(
            state: .handshaking,
            event: .received(.ping, epoch: 1),
            action: .sendPong("c1"),
            next: .handshaking(attempt(1, serverA, "attempt1", "c1"), channel: "c1")
        ),
        Transition(
            state: .handshaking,
            event: .received(.err("Authorization Violation"), epoch: 1),
            action: .drop(
                Machine.Loss(channel: "c1", attempt: "attempt1", error: NATSError(.authorizationViolation, ""))
            ),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .handshaking,
            event: .channelClosed(epoch: 1),
            action: .drop(Machine.Loss(channel: "c1", attempt: "attempt1", error: refused)),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .handshaking,
            event: .channelFailed(NATSError(.timeout, ""), epoch: 1),
            action: .drop(Machine.Loss(channel: "c1", attempt: "attempt1", error: NATSError(.timeout, ""))),
            next: .disconnected(wakeup: nil)
        ),
        Transition(state: .connected, event: .channelClosed(epoch: 0), action: .none, next: .connected(link)),
        Transition(
            state: .connected,
            event: .received(.err("Permissions Violation"), epoch: 1),
            action: .serverError("Permissions Violation"),
            next: .connected(link)
        ),
        Transition(
            state: .connected,
            event: .pingTimer(epoch: 1),
            action: .sendPing("c1"),
            next: .connected(Machine.Link(epoch: 1, channel: "c1", pingsOutstanding: 1, pongs: [nil]))
        ),
        Transition(
            state: .stale,
            event: .pingTimer(epoch: 1),
            action: .dropStale("c1"),
            next: .connected(Machine.Link(epoch: 1, channel: "c1", pingsOutstanding: 2, pongs: [nil, nil]))
        ),
        Transition(
            state: .stale,
            event: .received(.pong, epoch: 1),
            action: .none,
            next: .connected(Machine.Link(epoch: 1, channel: "c1", pingsOutstanding: 0, pongs: [nil]))
        ),
        Transition(
            state: .busy,
            event: .received(.pong, epoch: 1),
            action: .resume(["f1"]),
            next: .connected(link)
        ),
        Transition(
            state: .busy,
            event: .channelClosed(epoch: 1),
            action: .drop(Machine.Loss(channel: "c1", error: lost, requests: ["r1"], flushes: ["f1"])),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .busy,
            event: .channelFailed(garbage, epoch: 1),
            action: .drop(Machine.Loss(channel: "c1", error: lost, requests: ["r1"], flushes: ["f1"])),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .connected,
            event: .start,
            action: .fail(NATSError(.invalidArgument, "")),
            next: .connected(link)
        ),
        // The first connect: each server once, then give up.
        Transition(
            state: .connecting,
            event: .attemptFailed(refused),
            action: .retry,
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .secondFirstAttempt,
            event: .attemptFailed(refused),
            action: .stop(Machine.Teardown(error: refused, attempt: "attempt2")),
            next: .closed(refused)
        ),
        // Reconnecting: round robin, a backoff after each round over the server list.
        Transition(
            state: .reconnecting,
            event: .attemptFailed(refused),
            action: .retry,
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .reconnectingAgain,
            event: .attemptFailed(refused),
            action: .backoff(round: 1),
            next: .disconnected(wakeup: nil)
        ),
        Transition(
            state: .limited,
            event: .attemptFailed(refused),
            action: .stop(Machine.Teardown(error: NATSError(.connectionClosed, ""), attempt: "attempt2")),
            next: .closed(NATSError(.connectionClosed, ""))
        ),
        Transition(
            state: .backingOff,
            event: .nextAttempt("attempt4"),
            action: .connect(serverB, epoch: 4),
            next: .connecting(attempt(4, serverB, "attempt4"))
        ),
    ]

    static let close: [Transition] = [
        Transition(
            state: .idle,
            event: .requestClose("cw"),
            action: .stop(Machine.Teardown(closeWaiters: ["cw"])),
            next: .closed(nil)
        ),
        Transition(state: .closedBeforeRun, event: .start, action: .stop(Machine.Teardown()), next: .closed(nil)),
        Transition(
            state: .active,
            event: .requestClose("cw"),
            action: .drop(Machine.Loss(channel: "c1", attempt: "attempt1", error: closing)),
            next: .closing
        ),
        Transition(
            state: .handshaking,
            event: .requestClose(nil),
            action: .drop(Machine.Loss(channel: "c1", attempt: "attempt1", error: closing)),
            next: .closing
        ),
        Transition(
            state: .busy,
            event: .requestClose("cw"),
            action: .drop(Machine.Loss(channel: "c1", error: lost, requests: ["r1"], flushes: ["f1"])),
            next: .closing
        ),
        Transition(
            state: .backingOff,
            event: .requestClose("cw"),
            action: .drop(Machine.Loss(error: closing, wakeup: "wake")),
            next: .closing
        ),
        Transition(
            state: .started,
            event: .nextAttempt("w", cancelled: true),
            action: .stop(Machine.Teardown()),
            next: .closed(nil)
        ),
        Transition(
            state: .closing,
            event: .nextAttempt("attempt2"),
            action: .stop(Machine.Teardown(subscriptions: ["s1"], closeWaiters: ["close1"])),
            next: .closed(nil)
        ),
        Transition(
            state: .closing,
            event: .attemptFailed(refused),
            action: .stop(Machine.Teardown(subscriptions: ["s1"], closeWaiters: ["close1"])),
            next: .closed(nil)
        ),
        Transition(state: .closing, event: .channelClosed(epoch: 1), action: .none, next: .closing),
        Transition(state: .closing, event: .received(.info(info), epoch: 1), action: .none, next: .closing),
        Transition(state: .closing, event: .requestClose("cw"), action: .none, next: .closing),
        Transition(state: .closed, event: .requestClose("cw"), action: .resume(["cw"]), next: .closed(nil)),
        Transition(state: .closed, event: .nextAttempt("w"), action: .stop(Machine.Teardown()), next: .closed(nil)),
    ]

    @Test(arguments: reconnect + close)
    func transition(_ row: Transition) {
        var machine = row.state.machine
        #expect(row.event.apply(to: &machine) == row.action)
        #expect(machine.state == row.next)
    }

    @Test func handshakeSendsEverySubscriptionAndResumesEveryWaiter() throws {
        var machine = Fixture.connecting.machine
        _ = try machine.subscribe(subject: "b", queue: "q", inbox: "s2")
        #expect(try machine.waitUntilConnected("w1") != nil)
        _ = machine.channelActive("c1", epoch: 1)
        #expect(
            machine.received(.info(info), epoch: 1)
                == .sendConnect(
                    "c1",
                    info,
                    serverA,
                    [replies, Machine.Resubscription(sid: 2, subject: "b", queue: "q")]
                )
        )
        #expect(machine.received(.pong, epoch: 1) == .resume(["attempt1", "w1"]))
        #expect(try machine.waitUntilConnected("w2") == nil)
    }

    @Test func repliesAndMessagesGoToTheirInboxes() throws {
        var machine = Fixture.connected.machine
        let token = machine.openInbox("r1")
        let (sid, channel) = try machine.subscribe(subject: "s", queue: nil, inbox: "s1")
        #expect(channel == "c1")
        let reply = InboundMessage(subject: "_INBOX.t.\(token)", sid: 1, replyTo: nil, headers: nil, payload: [])
        #expect(machine.received(.msg(reply), epoch: 9) == .deliver(reply, to: "r1"))
        let message = InboundMessage(subject: "s", sid: sid, replyTo: nil, headers: nil, payload: [1])
        #expect(machine.received(.msg(message), epoch: 1) == .deliver(message, to: "s1"))
        #expect(machine.closeInbox(token) == "r1")
        #expect(machine.received(.msg(reply), epoch: 1) == .none)
    }

    @Test func callersAreRefusedWhileDisconnectedAndAfterClose() throws {
        var machine = Fixture.reconnecting.machine
        #expect(throws: NATSError(.notConnected, "")) { try machine.publishChannel() }
        #expect(throws: NATSError(.notConnected, "")) { try machine.flush("f") }
        _ = machine.requestClose(waiter: nil)
        #expect(throws: NATSError(.connectionClosed, "")) { try machine.publishChannel() }
        _ = machine.nextAttempt(waiter: "x")
        #expect(throws: NATSError(.connectionClosed, "")) {
            try machine.subscribe(subject: "s", queue: nil, inbox: "i")
        }
        #expect(throws: NATSError(.connectionClosed, "")) { try machine.waitUntilConnected("w") }
    }
}
