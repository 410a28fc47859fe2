import Benchmark
import Foundation
import SigV4

/// SigV4 signing and verification of a KMS-sized request, with and without the derived-key cache.
let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )
    let credentials = Credentials(
        accessKeyId: "AKIAEXAMPLE000000000",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    let body = Array(
        #"{"KeyId":"alias/events","NumberOfBytes":32,"EncryptionContext":{"eventType":"payments.card.captured"}}"#.utf8
    )
    let request = Request(
        method: "POST",
        path: "/",
        headers: [
            ("Host", "kms.us-east-1.amazonaws.com"), ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "TrentService.GenerateDataKey"),
        ],
        payload: .body(body)
    )
    let date = Date(timeIntervalSince1970: 1_780_000_000)
    let cached = Signer()
    let uncached = Signer(keyCache: nil)

    Benchmark("sigv4 sign (cached signing key)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(cached.sign(request, credentials: credentials, region: "us-east-1", service: "kms", date: date))
        }
    }
    Benchmark("sigv4 sign (key derived each time)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(uncached.sign(request, credentials: credentials, region: "us-east-1", service: "kms", date: date))
        }
    }

    let signature = cached.sign(request, credentials: credentials, region: "us-east-1", service: "kms", date: date)
    var signed = request
    signed.headers += signature.headers
    let verifier = Verifier(region: "us-east-1", services: ["kms"], now: { date }) { _ in
        Verifier.Secret(secretAccessKey: credentials.secretAccessKey)
    }
    Benchmark("sigv4 verify (cached signing key)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await verifier.verify(signed))
        }
    }
}
