import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// INI parsing, the credential chain and region/endpoint resolution, with injected environments and temporary
/// files (the process environment is never touched).
struct CredentialTests {
    static let configText = """
        # comment
        [default]
        region = eu-west-1
        output=json

        [profile dev]
        region: us-west-2
        role_arn = arn:aws:iam::123456789012:role/reader
        source_profile = base
        role_session_name = dev-session
        s3 =
          max_concurrent_requests = 10
        endpoint_url = http://localhost:4566

        [profile base]
        region = us-east-1

        [sso-session corp]
        sso_region = us-east-1

        [notaprofile]
        region = ap-south-1
        """

    static let credentialsText = """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = secret/default+key
        ; comment
        [base]
        AWS_ACCESS_KEY_ID = AKIABASE
        aws_secret_access_key = base-secret
        aws_session_token = base-token
        [profile literal]
        aws_access_key_id = AKIALITERAL
        """

    @Test func configFileProfiles() {
        let file = ProfileFile.parse(Self.configText, kind: .config)
        #expect(Set(file.profiles.keys) == ["default", "dev", "base"])
        #expect(file[profile: "default"] == ["region": "eu-west-1", "output": "json"])
        #expect(file[profile: "dev"]?["region"] == "us-west-2")
        #expect(file[profile: "dev"]?["s3.max_concurrent_requests"] == "10")
        #expect(file[profile: "dev"]?["endpoint_url"] == "http://localhost:4566")
        #expect(file[profile: "dev"]?["role_arn"] == "arn:aws:iam::123456789012:role/reader")
    }

    @Test func credentialsFileProfiles() {
        let file = ProfileFile.parse(Self.credentialsText, kind: .credentials)
        #expect(Set(file.profiles.keys) == ["default", "base", "profile literal"])
        #expect(file[profile: "base"]?["aws_access_key_id"] == "AKIABASE", "keys are case-insensitive")
        #expect(file[profile: "default"]?["aws_secret_access_key"] == "secret/default+key")
    }

    @Test func credentialsFileWinsOverConfig() {
        let merged = ProfileFile.parse("[default]\nregion = a\naws_access_key_id = FROMCONFIG", kind: .config)
            .merging(ProfileFile.parse("[default]\naws_access_key_id = FROMCREDS", kind: .credentials))
        #expect(merged[profile: "default"] == ["region": "a", "aws_access_key_id": "FROMCREDS"])
    }

    @Test(arguments: [
        ("", [String: [String: String]]()),
        ("key = outside any section\n[a]\nk=v", ["a": ["k": "v"]]),
        ("[a\nk=v", [:]),
        ("[a]\nno separator here\nk = v = w", ["a": ["k": "v = w"]]),
        ("[a]\r\nk = v\r\n", ["a": ["k": "v"]]),
        ("[ a ]\n  # indented comment\nk=", ["a": ["k": ""]]),
    ])
    func malformedLinesAreIgnored(text: String, expected: [String: [String: String]]) {
        #expect(ProfileFile.parse(text, kind: .credentials).profiles == expected)
    }

    /// A HOME folder with `.aws/config` and `.aws/credentials`.
    private func home() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kms-home-\(UUID().uuidString)")
        let aws = folder.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
        try Self.configText.write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try Self.credentialsText.write(to: aws.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func explicitCredentialsWin() async throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let explicit = Credentials(accessKeyId: "AKIAEXPLICIT", secretAccessKey: "s")
        let configuration = try AWSConfiguration.resolve(
            environment: ["HOME": home.path, "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "e"],
            credentials: explicit
        )
        #expect(try await configuration.credentialProvider.credentials() == explicit)
    }

    @Test func environmentBeatsProfiles() async throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let configuration = try AWSConfiguration.resolve(environment: [
            "HOME": home.path, "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "e", "AWS_SESSION_TOKEN": "t",
        ])
        let credentials = try await configuration.credentialProvider.credentials()
        #expect(credentials == Credentials(accessKeyId: "AKIAENV", secretAccessKey: "e", sessionToken: "t"))
        #expect(configuration.region == "eu-west-1", "region from the default profile")
    }

    @Test func defaultProfileThenNamedProfile() async throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let byDefault = try AWSConfiguration.resolve(environment: ["HOME": home.path])
        #expect(try await byDefault.credentialProvider.credentials().accessKeyId == "AKIADEFAULT")
        let named = try AWSConfiguration.resolve(environment: ["HOME": home.path, "AWS_PROFILE": "base"])
        let credentials = try await named.credentialProvider.credentials()
        #expect(
            credentials
                == Credentials(accessKeyId: "AKIABASE", secretAccessKey: "base-secret", sessionToken: "base-token")
        )
        #expect(named.region == "us-east-1")
        // An explicit profile skips the environment's keys, as the CLI's --profile does.
        let explicit = try AWSConfiguration.resolve(
            environment: ["HOME": home.path, "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "e"],
            profile: "base"
        )
        #expect(try await explicit.credentialProvider.credentials().accessKeyId == "AKIABASE")
    }

    @Test func fileLocationsFromEnvironment() async throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let credentials = home.appendingPathComponent("other-credentials")
        try "[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o\n".write(
            to: credentials,
            atomically: true,
            encoding: .utf8
        )
        let config = home.appendingPathComponent("other-config")
        try "[default]\nregion = sa-east-1\n".write(to: config, atomically: true, encoding: .utf8)
        let configuration = try AWSConfiguration.resolve(environment: [
            "HOME": home.path, "AWS_SHARED_CREDENTIALS_FILE": credentials.path, "AWS_CONFIG_FILE": config.path,
        ])
        #expect(try await configuration.credentialProvider.credentials().accessKeyId == "AKIAOTHER")
        #expect(configuration.region == "sa-east-1")
    }

    @Test func missingCredentialsAreTyped() async throws {
        let configuration = try AWSConfiguration.resolve(environment: [
            "AWS_REGION": "us-east-1", "HOME": "/nonexistent",
        ])
        await #expect(throws: ClientError(.credentialsUnavailable, "")) {
            _ = try await configuration.credentialProvider.credentials()
        }
        #expect(throws: ClientError(.invalidConfiguration, "")) {
            _ = try AWSConfiguration.resolve(environment: ["HOME": "/nonexistent"])
        }
        #expect(throws: ClientError(.invalidConfiguration, "")) {
            _ = try AWSConfiguration.resolve(environment: [
                "HOME": "/nonexistent", "AWS_PROFILE": "nope", "AWS_REGION": "x",
            ])
        }
    }

    @Test(arguments: [
        // (environment additions, explicit region, expected region)
        (["AWS_REGION": "r1", "AWS_DEFAULT_REGION": "r2"], nil as String?, "r1"),
        (["AWS_DEFAULT_REGION": "r2"], nil, "r2"),
        ([:], nil, "eu-west-1"),
        (["AWS_REGION": "r1"], "explicit", "explicit"),
    ])
    func regionOrder(environment: [String: String], region: String?, expected: String) throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let configuration = try AWSConfiguration.resolve(
            environment: environment.merging(["HOME": home.path]) { a, _ in a },
            region: region
        )
        #expect(configuration.region == expected)
    }

    @Test(arguments: [
        // (environment, explicit endpoint, expected KMS, expected STS)
        (
            [String: String](), nil as String?, "https://kms.us-east-1.amazonaws.com",
            "https://sts.us-east-1.amazonaws.com"
        ),
        (["AWS_ENDPOINT_URL": "http://all:1"], nil, "http://all:1", "http://all:1"),
        (
            ["AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_KMS": "http://kms:2"], nil, "http://kms:2",
            "http://all:1"
        ),
        (["AWS_ENDPOINT_URL_STS": "http://sts:3"], nil, "https://kms.us-east-1.amazonaws.com", "http://sts:3"),
        (["AWS_ENDPOINT_URL_KMS": "http://kms:2"], "http://explicit:4", "http://explicit:4", "http://explicit:4"),
    ])
    func endpointOrder(environment: [String: String], explicit: String?, kms: String, sts: String) throws {
        let configuration = try AWSConfiguration.resolve(
            environment: environment.merging(["AWS_REGION": "us-east-1", "HOME": "/nonexistent"]) { a, _ in a },
            endpoint: explicit.flatMap(URL.init(string:))
        )
        #expect(configuration.kmsEndpoint.absoluteString == kms)
        #expect(configuration.stsEndpoint.absoluteString == sts)
    }

    @Test func profileEndpointAndBadEndpoint() throws {
        let home = try home()
        defer { try? FileManager.default.removeItem(at: home) }
        let dev = try AWSConfiguration.resolve(environment: ["HOME": home.path], profile: "dev")
        #expect(dev.kmsEndpoint.absoluteString == "http://localhost:4566")
        #expect(dev.region == "us-west-2")
        #expect(throws: ClientError(.invalidConfiguration, "")) {
            _ = try AWSConfiguration.resolve(environment: ["AWS_REGION": "x", "AWS_ENDPOINT_URL": "ftp://nope"])
        }
    }

    @Test func roleProfileErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kms-cfg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("config")
        try """
        [profile nosource]
        role_arn = arn:aws:iam::1:role/r
        [profile a]
        role_arn = arn:aws:iam::1:role/r
        source_profile = b
        [profile b]
        role_arn = arn:aws:iam::1:role/r
        source_profile = a
        [profile missing]
        role_arn = arn:aws:iam::1:role/r
        source_profile = ghost
        """.write(to: config, atomically: true, encoding: .utf8)
        for profile in ["nosource", "a", "missing"] {
            #expect(throws: ClientError(.invalidConfiguration, ""), "\(profile)") {
                _ = try AWSConfiguration.resolve(
                    environment: ["AWS_CONFIG_FILE": config.path, "AWS_REGION": "us-east-1", "HOME": "/nonexistent"],
                    profile: profile
                )
            }
        }
    }

    @Test func secretsStayOutOfDescriptions() async throws {
        let environment = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAVISIBLE", "AWS_SECRET_ACCESS_KEY": "TOPSECRET",
            "AWS_SESSION_TOKEN": "TOKENSECRET",
        ])
        let session = SessionCredentials(
            accessKeyId: "ASIAVISIBLE",
            secretAccessKey: "TOPSECRET",
            sessionToken: "TOKENSECRET",
            expiration: Date()
        )
        let credentials = try await environment.credentials()
        let response = AssumeRoleResponse(
            credentials: session,
            assumedRoleArn: nil,
            assumedRoleId: nil,
            packedPolicySize: nil
        )
        let file = ProfileFile.parse(
            "[p]\naws_access_key_id = AKIAVISIBLE\naws_secret_access_key = TOPSECRET\naws_session_token = TOKENSECRET",
            kind: .credentials
        )
        var dumped = ""
        dump(session, to: &dumped)
        dump(response, to: &dumped)
        dump(file, to: &dumped)
        dump(credentials, to: &dumped)
        #expect(dumped.contains("AKIAVISIBLE") && dumped.contains("ASIAVISIBLE"))
        for text in [
            dumped, String(describing: response), String(describing: file), String(reflecting: session),
            String(describing: environment), String(describing: session), String(describing: credentials),
            String(reflecting: credentials), String(describing: StaticCredentialProvider(credentials)),
        ] {
            #expect(!text.contains("TOPSECRET") && !text.contains("TOKENSECRET"), "\(text)")
        }
    }
}
