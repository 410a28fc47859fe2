import AsyncHTTPClient
import Foundation
import KMS
import NIOCore
import NIOHTTP1
import SigV4
import Synchronization

/// A bounded load generator for scripts/bench: concurrent KMS calls over keep-alive connections on loopback, for a
/// fixed time, against any KMS endpoint (sealed serve, moto), or signed POSTs of a Decrypt body to a bare echo route
/// (the HTTP floor).
///
/// usage: kms-load ENDPOINT ACCESS_KEY_ID SECRET OPERATION SECONDS CONCURRENCY [KEY_ID] [OPTIONS]
///
/// Operations:
///   decrypt            Decrypt one ciphertext (made first with Encrypt under KEY_ID, a new key when none is given),
///                      or with --ciphertext a given one, or with --keys one of many keys' ciphertexts at random
///   generate-data-key  GenerateDataKey under KEY_ID (a new key when none is given)
///   echo               the same signed request to a bare echo route (the HTTP floor)
///   create-keys        CreateKey calls until --count keys exist (or SECONDS pass); --keys FILE receives their ids
///   ciphertext         prints the base64 ciphertext of one Encrypt of 32 bytes under KEY_ID with --context, and exits
///
/// Options:
///   --context K=V[,K=V…]  the encryption context (default eventType=payments.card.captured)
///   --ciphertext BASE64   decrypt this ciphertext (for callers that may Decrypt but not Encrypt)
///   --keys FILE           create-keys: write the created key ids here, one a line; decrypt: first Encrypt once under
///                         every key listed (the load then picks one of those ciphertexts at random per call)
///   --count N             create-keys: how many keys (default 1000)
///   --rate R              pace the callers to R requests per second in total (the p99 at a given load); latency is
///                         counted from each call's scheduled start, so a server that falls behind shows it
///   --assume-role ARN     sign with the session credentials of STS AssumeRole of ARN (same endpoint) instead
///   --label NAME          the first word of the result line (default: the operation)
///
/// AWS_SESSION_TOKEN, when set, is the session token of ACCESS_KEY_ID/SECRET (temporary ASIA… credentials).
///
/// Output: one line, `LABEL ENDPOINT c=N[ rate=R]: T req/s, p50 X ms, p99 Y ms, N requests, F failed, client CPU
/// C µs/request` (only successful calls count towards the throughput and the percentiles; the client CPU is this
/// process's user and system time during the run, per successful call: the load generator shares the machine with
/// the server it measures); create-keys prints
/// `LABEL ENDPOINT c=N: K keys/s, N keys in T s, F failed`.
struct Options {
    var endpoint: URL
    var credentials: Credentials
    var operation: String
    var seconds: Double
    var concurrency: Int
    var keyID = ""
    var context = ["eventType": "payments.card.captured"]
    var ciphertext: Data?
    var keysFile: String?
    var count = 1000
    var rate: Double?
    var assumeRole: String?
    var label: String?

    static let usage =
        "usage: kms-load ENDPOINT ACCESS_KEY_ID SECRET decrypt|generate-data-key|echo|create-keys|ciphertext SECONDS "
        + "CONCURRENCY [KEY_ID] [--context K=V,…] [--ciphertext B64] [--keys FILE] [--count N] [--rate R] "
        + "[--assume-role ARN] [--label NAME]"

    static func parse(_ arguments: [String]) -> Options? {
        var positional: [String] = []
        var flags: [String: String] = [:]
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                guard index + 1 < arguments.count else { return nil }
                flags[String(argument.dropFirst(2))] = arguments[index + 1]
                index += 2
            } else {
                positional.append(argument)
                index += 1
            }
        }
        guard positional.count >= 6, positional.count <= 7, let endpoint = URL(string: positional[0]),
            endpoint.host != nil, let seconds = Double(positional[4]), let concurrency = Int(positional[5]),
            concurrency > 0
        else { return nil }
        let token = ProcessInfo.processInfo.environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        var options = Options(
            endpoint: endpoint,
            credentials: Credentials(accessKeyId: positional[1], secretAccessKey: positional[2], sessionToken: token),
            operation: positional[3],
            seconds: seconds,
            concurrency: concurrency
        )
        if positional.count == 7 { options.keyID = positional[6] }
        for (name, value) in flags {
            switch name {
            case "context":
                var context: [String: String] = [:]
                for pair in value.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { return nil }
                    context[String(parts[0])] = String(parts[1])
                }
                options.context = context
            case "ciphertext":
                guard let data = Data(base64Encoded: value) else { return nil }
                options.ciphertext = data
            case "keys": options.keysFile = value
            case "count":
                guard let count = Int(value), count > 0 else { return nil }
                options.count = count
            case "rate":
                guard let rate = Double(value), rate > 0 else { return nil }
                options.rate = rate
            case "assume-role": options.assumeRole = value
            case "label": options.label = value
            default: return nil
            }
        }
        return options
    }
}

guard let options = Options.parse(CommandLine.arguments) else {
    FileHandle.standardError.write(Data((Options.usage + "\n").utf8))
    exit(2)
}
let endpoint = options.endpoint
let operation = options.operation
let httpClient = HTTPClient(
    eventLoopGroupProvider: .singleton,
    configuration: .init(
        connectionPool: .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency
        )
    )
)

var credentials = options.credentials
if let role = options.assumeRole {
    let sts = try STSClient(
        region: "us-east-1",
        credentialProvider: StaticCredentialProvider(credentials),
        endpoint: endpoint,
        httpClient: httpClient,
        options: ClientOptions(maxAttempts: 1, timeout: .seconds(10))
    )
    let session = try await sts.assumeRole(AssumeRoleRequest(roleArn: role, roleSessionName: "kms-load")).credentials
    credentials = Credentials(
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken
    )
}
let signingCredentials = credentials
let kms = try KMSClient(
    region: "us-east-1",
    credentialProvider: StaticCredentialProvider(signingCredentials),
    endpoint: endpoint,
    httpClient: httpClient,
    options: ClientOptions(maxAttempts: 1, timeout: .seconds(30))
)
let context = options.context
let start = ContinuousClock.now
let deadline = start + .seconds(options.seconds)

/// Runs `body(worker)` on `concurrency` tasks and gathers what they return.
func onWorkers<T: Sendable>(
    _ concurrency: Int,
    _ body: @escaping @Sendable (Int) async throws -> T
) async throws -> [T] {
    try await withThrowingTaskGroup(of: T.self) { group in
        for worker in 0..<concurrency { group.addTask { try await body(worker) } }
        var results: [T] = []
        for try await result in group { results.append(result) }
        return results
    }
}

/// A counter the workers share.
final class Counter: Sendable {
    let value = Atomic<Int>(0)

    /// Adds one and returns the value before.
    func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
    func undo() { _ = value.subtract(1, ordering: .relaxed) }
}

@Sendable func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

// MARK: Operations that are not load runs

if operation == "ciphertext" {
    guard !options.keyID.isEmpty else {
        FileHandle.standardError.write(Data("ciphertext needs KEY_ID\n".utf8))
        exit(2)
    }
    let blob = try await kms.encrypt(
        EncryptRequest(keyId: options.keyID, plaintext: Data(repeating: 7, count: 32), encryptionContext: context)
    ).ciphertextBlob!
    print(blob.base64EncodedString())
    try await httpClient.shutdown().get()
    exit(0)
}

if operation == "create-keys" {
    let target = options.count
    let claimed = Counter()
    let results = try await onWorkers(options.concurrency) { _ in
        var ids: [String] = []
        var failures = 0
        while ContinuousClock.now < deadline, claimed.next() < target {
            do {
                ids.append(try await kms.createKey().keyMetadata!.keyId)
            } catch {
                failures += 1
                claimed.undo()
                if failures > 100 { throw error }
            }
        }
        return (ids, failures)
    }
    let ids = results.flatMap(\.0)
    let elapsed = seconds(ContinuousClock.now - start)
    if let file = options.keysFile {
        try Data((ids.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
    }
    print(
        String(
            format: "%@ %@ c=%d: %.0f keys/s, %d keys in %.1f s, %d failed",
            options.label ?? operation,
            endpoint.absoluteString,
            options.concurrency,
            Double(ids.count) / elapsed,
            ids.count,
            elapsed,
            results.map(\.1).reduce(0, +)
        )
    )
    try await httpClient.shutdown().get()
    exit(ids.count == target ? 0 : 1)
}

// MARK: Preparation

var keyID = options.keyID
var blobs: [Data] = []
if operation != "echo" {
    if let ciphertext = options.ciphertext {
        blobs = [ciphertext]
    } else if operation == "decrypt", let file = options.keysFile {
        // One ciphertext per listed key, made concurrently (this touches every key once).
        let ids = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        let next = Counter()
        let prepareStart = ContinuousClock.now
        let made = try await onWorkers(options.concurrency) { _ in
            var mine: [Data] = []
            while true {
                let index = next.next()
                guard index < ids.count else { break }
                mine.append(
                    try await kms.encrypt(
                        EncryptRequest(
                            keyId: ids[index],
                            plaintext: Data(repeating: 7, count: 32),
                            encryptionContext: context
                        )
                    ).ciphertextBlob!
                )
            }
            return mine
        }
        blobs = made.flatMap { $0 }
        FileHandle.standardError.write(
            Data(
                String(
                    format: "kms-load: encrypted under %d keys in %.1f s\n",
                    blobs.count,
                    seconds(ContinuousClock.now - prepareStart)
                ).utf8
            )
        )
    } else {
        if keyID.isEmpty { keyID = try await kms.createKey().keyMetadata!.keyId }
        blobs = [
            try await kms.encrypt(
                EncryptRequest(keyId: keyID, plaintext: Data(repeating: 7, count: 32), encryptionContext: context)
            ).ciphertextBlob!
        ]
    }
}
let echoBody = ByteBuffer(
    string:
        #"{"CiphertextBlob":"\#(Data(repeating: 1, count: 150).base64EncodedString())","EncryptionContext":{"eventType":"payments.card.captured"}}"#
)
let signer = Signer()
let preparedBlobs = blobs
let preparedKeyID = keyID

@Sendable func call() async throws {
    switch operation {
    case "decrypt":
        let blob = preparedBlobs.count == 1 ? preparedBlobs[0] : preparedBlobs.randomElement()!
        _ = try await kms.decrypt(DecryptRequest(ciphertextBlob: blob, encryptionContext: context))
    case "generate-data-key":
        _ = try await kms.generateDataKey(
            GenerateDataKeyRequest(keyId: preparedKeyID, encryptionContext: context, keySpec: .aes256)
        )
    default:
        // The same work on the client side as a KMS call (sign, send, read), against the echo route.
        var request = HTTPClientRequest(url: endpoint.absoluteString)
        request.method = .POST
        let headers = [
            ("host", "\(endpoint.host!):\(endpoint.port!)"), ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.Decrypt"),
        ]
        let signature = signer.sign(
            SigV4.Request(method: "POST", path: "/", headers: headers, payload: .body(Array(buffer: echoBody))),
            credentials: signingCredentials,
            region: "us-east-1",
            service: "kms",
            date: Date()
        )
        for (name, value) in headers + signature.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(echoBody)
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
    }
}

// MARK: The load run

guard ["decrypt", "generate-data-key", "echo"].contains(operation) else {
    FileHandle.standardError.write(Data((Options.usage + "\n").utf8))
    exit(2)
}
/// This process's user and system CPU time so far, in microseconds.
func processCPUMicroseconds() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
}

let concurrency = options.concurrency
let cpuAtStart = processCPUMicroseconds()
let loadStart = ContinuousClock.now
let loadDeadline = loadStart + .seconds(options.seconds)
// With --rate each worker calls every `concurrency / rate` seconds, the workers' schedules interleaved evenly.
let interval: Duration? = options.rate.map { .nanoseconds(Int64(Double(concurrency) / $0 * 1e9)) }
let results = try await onWorkers(concurrency) { worker in
    var samples: [Double] = []
    var failures = 0
    var scheduled = loadStart + (interval.map { $0 * worker / concurrency } ?? .zero)
    while true {
        let now = ContinuousClock.now
        if interval != nil {
            if scheduled >= loadDeadline { break }
            if now < scheduled { try await Task.sleep(until: scheduled, clock: .continuous) }
        } else if now >= loadDeadline {
            break
        }
        let t0 = interval == nil ? ContinuousClock.now : scheduled
        do {
            try await call()
            samples.append(seconds(ContinuousClock.now - t0) * 1e3)
        } catch {
            failures += 1
        }
        if let interval { scheduled += interval }
    }
    return (samples, failures)
}
let total = seconds(ContinuousClock.now - loadStart)
let clientCPU = processCPUMicroseconds() - cpuAtStart
let samples = results.flatMap(\.0).sorted()
let failures = results.map(\.1).reduce(0, +)
@Sendable func percentile(_ p: Double) -> Double {
    samples.isEmpty ? 0 : samples[min(samples.count - 1, Int(Double(samples.count) * p))]
}
print(
    String(
        format: "%@ %@ c=%d%@: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d requests, %d failed, client CPU %d µs/request",
        options.label ?? operation,
        endpoint.absoluteString,
        concurrency,
        options.rate.map { String(format: " rate=%.0f", $0) } ?? "",
        Double(samples.count) / total,
        percentile(0.5),
        percentile(0.99),
        samples.count,
        failures,
        clientCPU / max(samples.count, 1)
    )
)
try await httpClient.shutdown().get()
