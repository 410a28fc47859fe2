public import AsyncHTTPClient
public import Foundation
public import SigV4

/// Region, credentials and endpoints resolved the way the AWS SDKs and CLI resolve them.
///
/// - **Credentials**, first match wins: the explicit credentials; `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
///   `AWS_SESSION_TOKEN` (skipped when a profile is passed explicitly, as the CLI's `--profile` does); the profile
///   (explicit, else `AWS_PROFILE`, else `default`) of `~/.aws/credentials` and `~/.aws/config` (paths from
///   `AWS_SHARED_CREDENTIALS_FILE`/`AWS_CONFIG_FILE`): its `aws_access_key_id`/`aws_secret_access_key`/
///   `aws_session_token`, or `role_arn` with `source_profile`, which assumes the role through STS (with
///   `role_session_name`, `external_id`, `duration_seconds`) and renews the session before it expires.
/// - **Region**: explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
/// - **Endpoints**: explicit; `AWS_ENDPOINT_URL_KMS`/`AWS_ENDPOINT_URL_STS`/`AWS_ENDPOINT_URL_DYNAMODB`/
///   `AWS_ENDPOINT_URL_IAM`/`AWS_ENDPOINT_URL_S3`; `AWS_ENDPOINT_URL`; the profile's `endpoint_url`; else
///   `https://kms.REGION.amazonaws.com` / `https://sts.REGION.amazonaws.com` / `https://dynamodb.REGION.amazonaws.com` /
///   IAM's global endpoint (``iamEndpoint(region:)``) / `https://s3.REGION.amazonaws.com`.
///
/// The environment is a parameter, so tests pass a dictionary instead of changing the process's variables.
public struct AWSConfiguration: Sendable {
    /// The region to sign for and to pick default endpoints by.
    public var region: String
    /// Where request credentials come from.
    public var credentialProvider: any CredentialProvider
    /// The KMS endpoint.
    public var kmsEndpoint: URL
    /// The STS endpoint.
    public var stsEndpoint: URL
    /// The DynamoDB endpoint (the branch keystore's table).
    public var dynamoDBEndpoint: URL
    /// The IAM endpoint (global: one per partition).
    public var iamEndpoint: URL
    /// The S3 endpoint (delivered log files).
    public var s3Endpoint: URL
    /// The profile that was read, if any.
    public var profile: String?

    public init(
        region: String,
        credentialProvider: any CredentialProvider,
        kmsEndpoint: URL? = nil,
        stsEndpoint: URL? = nil,
        dynamoDBEndpoint: URL? = nil,
        iamEndpoint: URL? = nil,
        s3Endpoint: URL? = nil,
        profile: String? = nil
    ) {
        self.region = region
        self.credentialProvider = credentialProvider
        self.kmsEndpoint = kmsEndpoint ?? Self.defaultEndpoint(service: "kms", region: region)
        self.stsEndpoint = stsEndpoint ?? Self.defaultEndpoint(service: "sts", region: region)
        self.dynamoDBEndpoint = dynamoDBEndpoint ?? Self.defaultEndpoint(service: "dynamodb", region: region)
        self.iamEndpoint = iamEndpoint ?? Self.iamEndpoint(region: region)
        self.s3Endpoint = s3Endpoint ?? Self.defaultEndpoint(service: "s3", region: region)
        self.profile = profile
    }

    /// Resolves a configuration.
    ///
    /// - Parameters:
    ///   - environment: The environment variables (default: the process's).
    ///   - profile: A profile name that overrides `AWS_PROFILE`; passing one also skips the environment credentials.
    ///   - region: A region that overrides every other source.
    ///   - credentials: Credentials that override every other source.
    ///   - endpoint: An endpoint for KMS, STS, DynamoDB, IAM and S3 that overrides every other source.
    ///   - httpClient: The HTTP client of the STS client that assumes a profile's role.
    ///   - options: Options of that STS client.
    /// - Returns: The configuration. Credentials are looked up lazily, on the first request.
    /// - Throws: ``ClientError`` `invalidConfiguration` when no region is configured, an endpoint is not a URL, or
    ///   the named profile does not exist.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        profile: String? = nil,
        region: String? = nil,
        credentials: Credentials? = nil,
        endpoint: URL? = nil,
        httpClient: HTTPClient? = nil,
        options: ClientOptions = ClientOptions()
    ) throws(ClientError) -> AWSConfiguration {
        let files = ProfileFile.load(environment: environment)
        let profileName = nonEmpty(profile) ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        let settings = files[profile: profileName]
        if settings == nil, nonEmpty(profile) != nil || nonEmpty(environment["AWS_PROFILE"]) != nil,
            credentials == nil
        {
            throw ClientError(.invalidConfiguration, "the profile \"\(profileName)\" is not in the AWS config files")
        }
        guard
            let region = nonEmpty(region) ?? nonEmpty(environment["AWS_REGION"])
                ?? nonEmpty(environment["AWS_DEFAULT_REGION"]) ?? nonEmpty(settings?["region"])
        else {
            throw ClientError(
                .invalidConfiguration,
                "no region: pass one, or set AWS_REGION, AWS_DEFAULT_REGION or the profile's region"
            )
        }
        let kmsEndpoint = try resolveEndpoint(
            explicit: endpoint,
            service: "KMS",
            environment: environment,
            settings: settings
        )
        let stsEndpoint = try resolveEndpoint(
            explicit: endpoint,
            service: "STS",
            environment: environment,
            settings: settings
        )
        let dynamoDBEndpoint = try resolveEndpoint(
            explicit: endpoint,
            service: "DYNAMODB",
            environment: environment,
            settings: settings
        )
        let iamEndpoint = try resolveEndpoint(explicit: endpoint, service: "IAM", environment: environment, settings: settings)
        let s3Endpoint = try resolveEndpoint(explicit: endpoint, service: "S3", environment: environment, settings: settings)

        var providers: [any CredentialProvider] = []
        if let credentials {
            providers.append(StaticCredentialProvider(credentials))
        } else {
            if nonEmpty(profile) == nil {
                let fromEnvironment = EnvironmentCredentialProvider(environment: environment)
                if fromEnvironment.isConfigured { providers.append(fromEnvironment) }
            }
            providers.append(
                try ProfileCredentialResolver(
                    files: files,
                    region: region,
                    stsEndpoint: stsEndpoint,
                    httpClient: httpClient,
                    options: options
                ).provider(forProfile: profileName)
            )
        }
        return AWSConfiguration(
            region: region,
            credentialProvider: providers.count == 1 ? providers[0] : CredentialChain(providers),
            kmsEndpoint: kmsEndpoint,
            stsEndpoint: stsEndpoint,
            dynamoDBEndpoint: dynamoDBEndpoint,
            iamEndpoint: iamEndpoint,
            s3Endpoint: s3Endpoint,
            profile: settings == nil ? nil : profileName
        )
    }

    /// IAM's global endpoint in the partition of `region`: `https://iam.amazonaws.com`, or
    /// `https://iam.cn-north-1.amazonaws.com.cn` in the China regions.
    public static func iamEndpoint(region: String) -> URL {
        URL(string: region.hasPrefix("cn-") ? "https://iam.cn-north-1.amazonaws.com.cn" : "https://iam.amazonaws.com")!
    }

    /// The region IAM requests are signed for in the partition of `region`: `us-east-1`, or `cn-north-1` in China.
    public static func iamSigningRegion(region: String) -> String { region.hasPrefix("cn-") ? "cn-north-1" : "us-east-1" }

    /// The public AWS endpoint of a service in a region (`amazonaws.com.cn` in the China regions).
    public static func defaultEndpoint(service: String, region: String) -> URL {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return URL(string: "https://\(service).\(region).\(suffix)")
            ?? URL(string: "https://\(service).us-east-1.amazonaws.com")!
    }

    private static func resolveEndpoint(
        explicit: URL?,
        service: String,
        environment: [String: String],
        settings: [String: String]?
    ) throws(ClientError) -> URL? {
        if let explicit { return explicit }
        let candidates: [(String, String?)] = [
            ("AWS_ENDPOINT_URL_\(service)", environment["AWS_ENDPOINT_URL_\(service)"]),
            ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"]),
            ("endpoint_url of the profile", settings?["endpoint_url"]),
        ]
        for (source, value) in candidates {
            guard let value = nonEmpty(value) else { continue }
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host != nil
            else { throw ClientError(.invalidConfiguration, "\(source) is not an http(s) URL: \(value)") }
            return url
        }
        return nil
    }
}

func nonEmpty(_ value: String?) -> String? {
    guard let value else { return nil }
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    return trimmed.isEmpty ? nil : trimmed
}

/// Turns a profile into a credential provider: static keys, or a role assumed with a source profile's keys.
struct ProfileCredentialResolver {
    let files: ProfileFile
    let region: String
    let stsEndpoint: URL?
    let httpClient: HTTPClient?
    let options: ClientOptions

    init(
        files: ProfileFile,
        region: String,
        stsEndpoint: URL?,
        httpClient: HTTPClient?,
        options: ClientOptions
    ) throws(ClientError) {
        self.files = files
        self.region = region
        self.stsEndpoint = stsEndpoint
        self.httpClient = httpClient
        self.options = options
    }

    func provider(forProfile name: String) throws(ClientError) -> any CredentialProvider {
        try provider(forProfile: name, visited: [])
    }

    private func provider(forProfile name: String, visited: [String]) throws(ClientError) -> any CredentialProvider {
        guard let settings = files[profile: name] else {
            return UnavailableCredentialProvider(reason: "no profile \"\(name)\" in the AWS config files")
        }
        if let roleArn = nonEmpty(settings["role_arn"]) {
            guard !visited.contains(name) else {
                throw ClientError(
                    .invalidConfiguration,
                    "the profiles \((visited + [name]).joined(separator: " → ")) form a source_profile cycle"
                )
            }
            guard let sourceName = nonEmpty(settings["source_profile"]) else {
                throw ClientError(
                    .invalidConfiguration,
                    "the profile \"\(name)\" has role_arn without source_profile (credential_source is not supported)"
                )
            }
            let source: any CredentialProvider
            if sourceName == name {
                guard let keys = staticCredentials(settings) else {
                    throw ClientError(
                        .invalidConfiguration,
                        "the profile \"\(name)\" is its own source but has no keys"
                    )
                }
                source = StaticCredentialProvider(keys)
            } else {
                guard files[profile: sourceName] != nil else {
                    throw ClientError(
                        .invalidConfiguration,
                        "the source_profile \"\(sourceName)\" of the profile \"\(name)\" does not exist"
                    )
                }
                source = try provider(forProfile: sourceName, visited: visited + [name])
            }
            let sts = try STSClient(
                region: nonEmpty(settings["region"]) ?? region,
                credentialProvider: source,
                endpoint: stsEndpoint,
                httpClient: httpClient,
                options: options
            )
            let request = AssumeRoleRequest(
                roleArn: roleArn,
                roleSessionName: nonEmpty(settings["role_session_name"])
                    ?? "sealed-\(Int(Date().timeIntervalSince1970))",
                durationSeconds: settings["duration_seconds"].flatMap { Int($0) },
                externalId: nonEmpty(settings["external_id"])
            )
            return RefreshingCredentialProvider.assumingRole(request, sts: sts)
        }
        if let keys = staticCredentials(settings) { return StaticCredentialProvider(keys) }
        return UnavailableCredentialProvider(reason: "the profile \"\(name)\" has no credentials")
    }

    private func staticCredentials(_ settings: [String: String]) -> Credentials? {
        guard let id = nonEmpty(settings["aws_access_key_id"]), let secret = nonEmpty(settings["aws_secret_access_key"])
        else { return nil }
        return Credentials(
            accessKeyId: id,
            secretAccessKey: secret,
            sessionToken: nonEmpty(settings["aws_session_token"])
        )
    }
}

/// A provider that has nothing: the end of a chain whose profile holds no credentials.
struct UnavailableCredentialProvider: CredentialProvider {
    let reason: String
    func credentials() async throws -> Credentials { throw ClientError(.credentialsUnavailable, reason) }
}
