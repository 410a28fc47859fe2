import AsyncHTTPClient
import Foundation
import KMS
import NIOCore
import NIOHTTP1
import SigV4

/// A bounded load generator for scripts/bench: concurrent Decrypt or GenerateDataKey calls over
/// keep-alive connections on loopback, for a fixed time, against any KMS endpoint (sealed serve, moto),
/// or signed POSTs of a Decrypt body to a bare echo route (the HTTP floor).
///
/// usage: kms-load ENDPOINT ACCESS_KEY_ID SECRET OPERATION(decrypt|generate-data-key|echo) SECONDS CONCURRENCY [KEY_ID]
let arguments = CommandLine.arguments
guard arguments.count >= 7 else {
    print("usage: kms-load ENDPOINT ACCESS_KEY_ID SECRET decrypt|generate-data-key|echo SECONDS CONCURRENCY [KEY_ID]")
    exit(2)
}
let endpoint = URL(string: arguments[1])!
let credentials = Credentials(accessKeyId: arguments[2], secretAccessKey: arguments[3])
let operation = arguments[4]
let seconds = Double(arguments[5])!
let concurrency = Int(arguments[6])!
let httpClient = HTTPClient(
    eventLoopGroupProvider: .singleton,
    configuration: .init(
        connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
    )
)
let kms = try KMSClient(
    region: "us-east-1",
    credentialProvider: StaticCredentialProvider(credentials),
    endpoint: endpoint,
    httpClient: httpClient,
    options: ClientOptions(maxAttempts: 1, timeout: .seconds(10))
)

// Prepare: a key and a ciphertext (not for the echo floor).
var keyID = arguments.count > 7 ? arguments[7] : ""
var blob = Data()
let context = ["eventType": "payments.card.captured"]
if operation != "echo" {
    if keyID.isEmpty { keyID = try await kms.createKey().keyMetadata!.keyId }
    blob = try await kms.encrypt(
        EncryptRequest(keyId: keyID, plaintext: Data(repeating: 7, count: 32), encryptionContext: context)
    ).ciphertextBlob!
}
let echoBody = ByteBuffer(
    string:
        #"{"CiphertextBlob":"\#(Data(repeating: 1, count: 150).base64EncodedString())","EncryptionContext":{"eventType":"payments.card.captured"}}"#
)
let signer = Signer()

func call() async throws {
    switch operation {
    case "decrypt":
        _ = try await kms.decrypt(DecryptRequest(ciphertextBlob: blob, encryptionContext: context))
    case "generate-data-key":
        _ = try await kms.generateDataKey(
            GenerateDataKeyRequest(keyId: keyID, encryptionContext: context, keySpec: .aes256)
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
            credentials: credentials,
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

let deadline = ContinuousClock.now + .seconds(seconds)
let start = ContinuousClock.now
let latencies = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
    for _ in 0..<concurrency {
        group.addTask {
            var samples: [Double] = []
            var failures = 0
            while ContinuousClock.now < deadline {
                let t0 = ContinuousClock.now
                do { try await call() } catch { failures += 1 }
                let elapsed = ContinuousClock.now - t0
                samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
            }
            return (samples, failures)
        }
    }
    var all: [Double] = []
    var failures = 0
    for try await (samples, failed) in group {
        all += samples
        failures += failed
    }
    return (all.sorted(), failures)
}
let elapsed = ContinuousClock.now - start
let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let (samples, failures) = latencies
func percentile(_ p: Double) -> Double {
    samples.isEmpty ? 0 : samples[min(samples.count - 1, Int(Double(samples.count) * p))]
}
print(
    String(
        format: "%@ %@ c=%d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d requests, %d failed",
        operation,
        endpoint.absoluteString,
        concurrency,
        Double(samples.count) / total,
        percentile(0.5),
        percentile(0.99),
        samples.count,
        failures
    )
)
try await httpClient.shutdown()
