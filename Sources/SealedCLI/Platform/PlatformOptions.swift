internal import ArgumentParser
internal import Foundation
internal import KMS
internal import PlatformClient
internal import WireShapes

/// The options every platform command takes: where the server is, whose credentials, and the output format.
struct PlatformOptions: ParsableArguments {
    enum Output: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(
        name: .customLong("endpoint-url"),
        help: "The sealed serve URL (default: AWS_ENDPOINT_URL, else http://127.0.0.1:8080)."
    )
    var endpointURL: String?

    @Option(
        name: .customLong("profile"),
        help: "The profile of ~/.aws/credentials to sign with (default: AWS_PROFILE)."
    )
    var profile: String?

    @Option(name: .customLong("region"), help: "The region to sign for (default: AWS_REGION, the profile, us-east-1).")
    var region: String?

    @Option(name: .customLong("output"), help: "text (default) or json.")
    var output: Output = .text

    @Flag(
        name: .customLong("aws"),
        help: """
            The server governs an AWS account (sealed serve --aws): prove who you are with a GetCallerIdentity signed \
            with your AWS credentials (the profile's, the environment's); KMS and STS are AWS's. Default: SEALED_AWS=1.
            """
    )
    var aws = false

    @Option(
        name: .customLong("aws-endpoint-url"),
        help: "With --aws: one endpoint for AWS KMS and STS (an AWS-compatible service such as moto); else AWS's."
    )
    var awsEndpointURL: String?

    /// Whether the server is in AWS mode: `--aws` or `SEALED_AWS=1`.
    var awsMode: Bool { aws || ProcessInfo.processInfo.environment["SEALED_AWS"] == "1" }

    /// Region, credentials and the KMS and STS endpoints for the SDK's clients: the server's, or in AWS mode AWS's.
    func awsConfiguration() throws -> AWSConfiguration {
        let (url, environment) = try resolvedEndpoint()
        guard awsMode else {
            return try AWSConfiguration.resolve(
                environment: environment,
                profile: profile,
                region: region,
                endpoint: url
            )
        }
        // AWS_ENDPOINT_URL names the platform here; AWS's own endpoints are the per-service variables or the default.
        var aws = environment
        aws["AWS_ENDPOINT_URL"] = nil
        var endpoint: URL?
        if let awsEndpointURL {
            guard let parsed = URL(string: awsEndpointURL), parsed.scheme?.hasPrefix("http") == true else {
                throw CLIError("--aws-endpoint-url must be an http(s) URL, not \"\(awsEndpointURL)\"")
            }
            endpoint = parsed
        }
        return try AWSConfiguration.resolve(environment: aws, profile: profile, region: region, endpoint: endpoint)
    }

    func resolvedEndpoint() throws -> (URL, [String: String]) {
        let environment = ProcessInfo.processInfo.environment
        let text = endpointURL ?? environment["AWS_ENDPOINT_URL"] ?? "http://127.0.0.1:8080"
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw CLIError("--endpoint-url must be an http(s) URL, not \"\(text)\"")
        }
        var withRegion = environment
        if region == nil, environment["AWS_REGION"] == nil, environment["AWS_DEFAULT_REGION"] == nil {
            withRegion["AWS_REGION"] = "us-east-1"
        }
        return (url, withRegion)
    }

    /// A client signed with the resolved credentials.
    func client() throws -> PlatformClient {
        let (url, environmentWithRegion) = try resolvedEndpoint()
        let configuration = try AWSConfiguration.resolve(
            environment: environmentWithRegion,
            profile: profile,
            region: region,
            endpoint: url
        )
        var client = try PlatformClient(
            endpoint: url,
            region: configuration.region,
            credentialProvider: configuration.credentialProvider
        )
        if awsMode {
            let sts = try STSClient(configuration: try awsConfiguration())
            client.callerIdentity = CallerIdentitySigner(sts: sts, server: url)
        }
        return client
    }

    /// Prints an answer: its JSON as the server sent it (pretty-printed), or `text(answer)` lines.
    func emit<Output>(_ answer: PlatformAnswer<Output>, text: (Output) -> [String]) throws {
        switch output {
        case .json:
            let object = try JSONSerialization.jsonObject(with: answer.json, options: [.fragmentsAllowed])
            let data = try JSONSerialization.data(
                withJSONObject: object,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
            )
            print(String(decoding: data, as: UTF8.self))
        case .text:
            for line in text(answer.output) { print(line) }
        }
    }

    /// Prints a value the command put together, as JSON or as `text(value)` lines.
    func emit<Value: Encodable>(_ value: Value, text: (Value) -> [String]) throws {
        try emit(PlatformAnswer(output: value, json: try PlatformJSON.encoder().encode(value)), text: text)
    }

    /// Calls a declared route with `input` as the JSON body.
    func send<Input: Encodable, Output: Decodable>(
        _ route: PlatformRoute,
        _ parameters: String...,
        query: [(String, String)] = [],
        input: Input,
        as type: Output.Type = Output.self
    ) async throws -> PlatformAnswer<Output> {
        try await oneLineErrors { try await client().send(route, parameters, query: query, input: input, as: type) }
    }

    /// Calls a declared route without a body.
    func send<Output: Decodable>(
        _ route: PlatformRoute,
        _ parameters: String...,
        query: [(String, String)] = [],
        as type: Output.Type = Output.self
    ) async throws -> PlatformAnswer<Output> {
        try await oneLineErrors { try await client().send(route, parameters, query: query, as: type) }
    }

    /// Calls a declared route with a body given as exact JSON bytes.
    func send<Output: Decodable>(
        _ route: PlatformRoute,
        _ parameters: String...,
        json: [UInt8],
        as type: Output.Type = Output.self
    ) async throws -> PlatformAnswer<Output> {
        try await oneLineErrors { try await client().send(route, parameters, json: json, as: type) }
    }

    /// Calls a declared route and returns the answer's bytes.
    func raw(_ route: PlatformRoute, _ parameters: String..., query: [(String, String)] = []) async throws -> Data {
        try await oneLineErrors { try await client().raw(route, parameters, query: query) }
    }

    /// The API's and the transport's errors as one-line CLI errors (`Code: message`).
    private func oneLineErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PlatformError {
            throw CLIError("\(error.code): \(error.message)")
        } catch let error as ClientError {
            throw CLIError("\(error)")
        }
    }
}

/// Rows of a text table: columns padded to the widest cell.
func table(_ header: [String], _ rows: [[String]]) -> [String] {
    guard !rows.isEmpty else { return ["(none)"] }
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
}

/// A text cell: `-` for a value that is absent.
func cell(_ value: String?) -> String { value ?? "-" }

/// A number as a text cell, `-` when absent.
func cell<Number: BinaryInteger>(_ value: Number?) -> String { value.map { "\($0)" } ?? "-" }

/// A date as a text cell in ISO 8601 (as the API sends it), `-` when absent.
func cell(_ value: Date?) -> String { value?.formatted(.iso8601) ?? "-" }

/// A list as a text cell: its items joined by commas.
func cell(_ values: [String]) -> String { values.joined(separator: ",") }

/// `90s`, `30m`, `1h`, `7d`, `2w` as seconds; `option` names the option in errors.
func parseDuration(_ text: String, option: String) throws -> Int {
    let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    guard let unit = text.last, let factor = units[unit], let count = Int(text.dropLast()), count > 0 else {
        throw ValidationError("\(option) must be a number followed by s, m, h, d or w (e.g. 1h, 7d), not \(text)")
    }
    let (seconds, overflow) = count.multipliedReportingOverflow(by: factor)
    guard !overflow else { throw ValidationError("\(option) \(text) is too long a duration") }
    return seconds
}
