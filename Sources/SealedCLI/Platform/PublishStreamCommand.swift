internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import SealedEvents
internal import WireShapes

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

extension PublishCommand {
    /// `sealed publish --stream`: every line of the input on one ``PlatformClient/Publisher``, one acknowledgement
    /// line printed per event as it resolves, in input order; exit status 2 when any event was refused.
    func publishStream() async throws {
        var refused = 0
        var total = 0
        try await CLIError.reporting {
            let input = try LineInput(file ?? "-")
            (total, refused) = try await options.client().withPublisher(topic: topic) { publisher in
                let (receipts, sent) = AsyncStream.makeStream(of: Publisher.Receipt.self)
                async let printed = Self.print(receipts)
                do {
                    while let lines = try input.next() {
                        for line in lines {
                            let eventId = (try? SealedEvents.JSONValue(parsing: line))?["metaData"]?["eventId"]?
                                .stringValue
                            sent.yield(try await publisher.publish(json: line, eventId: eventId))
                        }
                    }
                    sent.finish()
                } catch {
                    sent.finish()
                    _ = try? await printed
                    throw error
                }
                return try await printed
            }
        }
        if refused > 0 {
            FileHandle.standardError.write(Data("\(refused) of \(total) events were refused\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Prints each receipt's acknowledgement line as it resolves; returns how many were printed and refused.
    static func print(_ receipts: AsyncStream<Publisher.Receipt>) async throws -> (total: Int, refused: Int) {
        var total = 0
        var refused = 0
        for await receipt in receipts {
            let line: EventStreamLine
            do {
                line = .stored(eventId: receipt.eventId ?? "", offset: try await receipt.offset)
            } catch let refusal as EventRefusal {
                line = .refused(eventId: refusal.eventId, code: refusal.rule, message: refusal.message)
                refused += 1
            }
            total += 1
            FileHandle.standardOutput.write(Data(line.serialized()))
        }
        return (total, refused)
    }
}

/// The non-blank lines of a file or standard input (`-`), a `\r` before the `\n` dropped; each read returns what is
/// there, so lines written to a pipe are published as they come.
final class LineInput {
    private let descriptor: Int32
    private var partial: [UInt8] = []
    private var ended = false

    init(_ path: String) throws {
        if path == "-" {
            descriptor = STDIN_FILENO
        } else {
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
        }
    }

    deinit { if descriptor != STDIN_FILENO { close(descriptor) } }

    /// The lines completed by the next read (possibly none); `nil` at the end of the input.
    func next() throws -> [[UInt8]]? {
        guard !ended else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw CLIError("read failed: \(String(cString: strerror(errno)))") }
        var lines: [[UInt8]] = []
        if count == 0 {
            ended = true
            lines.append(partial)
        } else {
            for byte in buffer[..<count] {
                if byte == UInt8(ascii: "\n") {
                    lines.append(partial)
                    partial = []
                } else {
                    partial.append(byte)
                }
            }
        }
        return lines.compactMap { line in
            let trimmed = line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
            return trimmed.contains(where: { $0 != 0x20 && $0 != 0x09 }) ? trimmed : nil
        }
    }
}
