import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Testing

/// Security review finding 1 and 10 (issue 17): a signed caller's numbers — query parameters, body members, STS
/// arguments — never reach a conversion that traps. Each one is sent to a live `sealed serve`, must come back a
/// typed 400, and the server must still answer afterwards (a trap kills the process, and the next call fails to
/// connect).
@Suite(.serialized)
struct HostileNumberTests {
    typealias Server = EventPlatformTests.Server

    struct Call: CustomStringConvertible {
        var method = "GET"
        var path: [String]
        var query: [(String, String)] = []
        var body: [UInt8]?
        var description: String {
            "\(method) /v1/\(path.joined(separator: "/"))?\(query.map { "\($0.0)=\($0.1)" }.joined(separator: "&"))"
                + (body.map { " " + String(decoding: $0, as: UTF8.self) } ?? "")
        }
    }

    /// Every route that takes a number, with the values that used to trap (`nan`, retention over ~9.2e12 s) and
    /// every other kind of bad number: out of range, negative, too large for 64 bits, exponent, hexadecimal, text.
    static let calls: [Call] = {
        let waits = ["nan", "NaN", "inf", "-inf", "infinity", "-1", "21", "20.001", "1e400", "1e1", "0x10", "abc", "",
                     "1.2345", ".5", "5."]
        let limits = ["0", "1001", "-1", "99999999999999999999", "abc", "nan", "1.5", "+5", "0x10"]
        let offsets = ["-1", "18446744073709551616", "abc", "1e3", "nan"]
        var calls: [Call] = []
        for wait in waits {
            calls.append(Call(path: ["topics", "numbers", "events"], query: [("wait", wait)]))
            calls.append(Call(method: "POST", path: ["topics", "numbers", "groups", "g", "fetch"], query: [("wait", wait)]))
        }
        for limit in limits {
            calls.append(Call(path: ["topics", "numbers", "events"], query: [("limit", limit)]))
            calls.append(
                Call(method: "POST", path: ["topics", "numbers", "groups", "g", "fetch"], query: [("limit", limit)])
            )
            calls.append(Call(path: ["audit"], query: [("limit", limit)]))
        }
        for from in offsets {
            calls.append(Call(path: ["topics", "numbers", "events"], query: [("from", from)]))
            calls.append(Call(path: ["topics", "numbers", "stream"], query: [("from", from)]))
            calls.append(Call(path: ["audit"], query: [("after", from)]))
        }
        for offset in ["-1", "1e30", "18446744073709551616", "18446744073709551615", "0", "1.5", #""1""#, "null"] {
            calls.append(
                Call(
                    method: "POST",
                    path: ["topics", "numbers", "groups", "g", "commit"],
                    body: Array(#"{"Offset":\#(offset)}"#.utf8)
                )
            )
        }
        let retentions = ["9300000000000", "9223372036854775807", "-9223372036854775808", "0", "-1", "1e300", "1.5",
                          "\(100 * 365 * 86_400 + 1)", "18446744073709551616"]
        for retention in retentions {
            calls.append(
                Call(method: "POST", path: ["topics"], body: Array(#"{"Name":"r","RetentionSeconds":\#(retention)}"#.utf8))
            )
        }
        for bytes in ["0", "-1", "\((1 << 53) + 1)", "9223372036854775807", "1e300"] {
            calls.append(
                Call(method: "POST", path: ["topics"], body: Array(#"{"Name":"r","RetentionBytes":\#(bytes)}"#.utf8))
            )
        }
        for duration in ["-1", "0", "59", "\(366 * 86_400 + 1)", "9223372036854775807", "1e300", "nan"] {
            calls.append(
                Call(
                    method: "POST",
                    path: ["access", "requests"],
                    body: Array(#"{"EventType":"numbers.x","Justification":"j","DurationSeconds":\#(duration)}"#.utf8)
                )
            )
        }
        for seconds in ["-1", "0", "3599", "43201", "9223372036854775807", "1e300"] {
            calls.append(
                Call(
                    method: "POST",
                    path: ["iam", "roles"],
                    body: Array(
                        #"{"RoleName":"r","AssumeRolePolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[]}","MaxSessionDuration":\#(seconds)}"#
                            .utf8
                    )
                )
            )
        }
        return calls
    }()

    @Test func everyCallerSuppliedNumberIsAValidationErrorAndTheServerStaysUp() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let client = try server.client(try server.administrator)
        _ = try await client.call("POST", ["topics"], body: ["Name": "numbers"])
        // An event type to ask access for, so a request's duration is what is refused.
        _ = try await client.call("POST", ["iam", "teams"], body: ["TeamName": "owners"])
        _ = try await client.call("POST", ["catalog", "domains"], body: ["Domain": "numbers", "Owner": "owners"])
        _ = try await client.call(
            "POST",
            ["catalog", "event-types"],
            body: ["EventType": "numbers.x", "Domain": "numbers", "Classification": "public"]
        )
        for call in Self.calls {
            do {
                _ = try await client.call(call.method, call.path, query: call.query, json: call.body)
                Issue.record("accepted: \(call)")
            } catch let error as PlatformError {
                #expect(error.statusCode == 400, "\(call): \(error)")
                #expect(
                    ["ValidationException", "SerializationException", "ValidationError"].contains(error.code),
                    "\(call): \(error)"
                )
            }
            // Still alive: a trap would have ended the process.
            _ = try await client.call("GET", ["topics"])
        }
        #expect(server.process.isRunning)
    }

    /// The largest values that are accepted work end to end: a topic with the longest retention is listed and read
    /// (its cutoff is computed without overflow), and the largest offset reads nothing.
    @Test func theLargestAcceptedValuesWork() async throws {
        let server = try Server(arguments: ["--unknown-event-types", "allow"])
        defer { server.remove() }
        let client = try server.client(try server.administrator)
        let created = try await client.call(
            "POST",
            ["topics"],
            body: ["Name": "long", "RetentionSeconds": 100 * 365 * 86_400, "RetentionBytes": 1 << 53]
        )
        #expect((created["RetentionSeconds"] as? NSNumber)?.intValue == 100 * 365 * 86_400)
        let event = #"{"metaData":{"eventId":"e1","eventType":"t.x","domain":"t","source":"s"},"data":1}"#
        _ = try await client.call("POST", ["topics", "long", "events"], json: Array(event.utf8))
        let topics = try await client.call("GET", ["topics"])["Topics"] as? [[String: Any]] ?? []
        #expect(topics.contains { $0["Name"] as? String == "long" && ($0["EventCount"] as? NSNumber)?.intValue == 1 })
        let page = try await client.call(
            "GET",
            ["topics", "long", "events"],
            query: [("from", "0"), ("limit", "1000"), ("wait", "0.001")]
        )
        #expect((page["Events"] as? [Any])?.count == 1)
        let beyond = try await client.call(
            "GET",
            ["topics", "long", "events"],
            query: [("from", "18446744073709551615"), ("limit", "1")]
        )
        #expect((beyond["Events"] as? [Any])?.isEmpty == true)
    }

    /// STS `AssumeRole` with durations no 32- or 64-bit arithmetic should see: a typed `ValidationError`.
    @Test func assumeRoleDurationsOutOfRangeAreValidationErrors() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let sts = try STSClient(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(try server.administrator),
            endpoint: server.endpoint,
            options: ClientOptions(maxAttempts: 1, timeout: .seconds(30))
        )
        let admin = try #require(try await sts.getCallerIdentity().arn)
        let platform = try server.client(try server.administrator)
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(admin)"},"Action":"sts:AssumeRole"}]}"#
        let role = try await platform.call("POST", ["iam", "roles"], body: ["RoleName": "numbers", "AssumeRolePolicyDocument": trust])
        let roleArn = try #require((role["Role"] as? [String: Any])?["Arn"] as? String)
        for duration in [Int.max, Int.min, -1, 0, 899, 3601] {
            do {
                _ = try await sts.assumeRole(
                    AssumeRoleRequest(roleArn: roleArn, roleSessionName: "n", durationSeconds: duration)
                )
                Issue.record("accepted DurationSeconds \(duration)")
            } catch let error as STSError {
                #expect(error.statusCode == 400, "\(duration): \(error)")
                #expect(error.code.rawValue == "ValidationError", "\(duration): \(error)")
            }
        }
        #expect(server.process.isRunning)
    }

    /// The CLI's durations (`--duration`, `--retention`) multiply a count by a unit: a count that overflows is an
    /// error naming the option (exit 1, one line), not a trap. Nothing is sent, so no server is needed.
    @Test(arguments: [
        ["access", "request", "x.y", "--justification", "j", "--duration", "99999999999999999w"],
        ["topics", "create", "t", "--retention", "9223372036854775807d"],
        ["topics", "create", "t", "--retention", "99999999999999999999s"],
    ])
    func cliDurationsThatOverflowAreUsageErrors(_ arguments: [String]) async throws {
        let run = try await ESDKCommandTests.sealed(arguments + ["--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1"])
        #expect(run.status == 1, "\(run.status): \(run.stderr)")
        let option = arguments[arguments.count - 2]
        #expect(
            run.stderr.hasPrefix("error: \(option) ")
                && (run.stderr.contains("is too long a duration") || run.stderr.contains("must be a number followed by")),
            "\(run.stderr)"
        )
        #expect(!run.stderr.contains("Fatal error"), "\(run.stderr)")
    }
}
