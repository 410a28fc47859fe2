import Foundation
import KMS
import SealedTesting
import SigV4
import Synchronization
import Testing

/// What the clients do with servers that misbehave: every case is a typed error, never a crash, and the retry
/// policy retries exactly the transient ones.
struct BadServerTests {
    static let credentials = StaticCredentialProvider(
        Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")
    )

    func kms(
        _ server: ScriptedServer,
        _ options: ClientOptions = ClientOptions(maxAttempts: 1, timeout: .seconds(5))
    ) throws -> KMSClient {
        try KMSClient(region: "us-east-1", credentialProvider: Self.credentials, endpoint: server.url, options: options)
    }

    func sts(
        _ server: ScriptedServer,
        _ options: ClientOptions = ClientOptions(maxAttempts: 1, timeout: .seconds(5))
    ) throws -> STSClient {
        try STSClient(region: "us-east-1", credentialProvider: Self.credentials, endpoint: server.url, options: options)
    }

    @Test func requestIsJSON11AndSigned() async throws {
        let server = try ScriptedServer { _, _ in .json(200, #"{"Plaintext":"AAECAw=="}"#) }
        defer { server.stop() }
        let response = try await kms(server).generateRandom(GenerateRandomRequest(numberOfBytes: 4))
        #expect(response.plaintext == Data([0, 1, 2, 3]))
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.path == "/")
        #expect(request.header("X-Amz-Target") == "TrentService.GenerateRandom")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
        #expect(request.header("Host") == "127.0.0.1:\(server.port)")
        let authorization = try #require(request.header("Authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        #expect(authorization.contains("/us-east-1/kms/aws4_request"))
        #expect(!authorization.contains("secret"))
        #expect(request.json?["NumberOfBytes"] as? Int == 4)
    }

    /// Paging with `Limit`/`Marker` (moto 5.2.5 ignores both and returns one page, so a fake serves the pages).
    @Test func listKeysPages() async throws {
        let server = try ScriptedServer { _, request in
            request.json?["Marker"] as? String == "page-2"
                ? .json(200, #"{"Keys":[{"KeyId":"b","KeyArn":"arn:aws:kms:us-east-1:1:key/b"}],"Truncated":false}"#)
                : .json(
                    200,
                    #"{"Keys":[{"KeyId":"a","KeyArn":"arn:aws:kms:us-east-1:1:key/a"}],"NextMarker":"page-2","Truncated":true}"#
                )
        }
        defer { server.stop() }
        let client = try kms(server)
        var ids: [String] = []
        var marker: String? = nil
        repeat {
            let page = try await client.listKeys(ListKeysRequest(limit: 1, marker: marker))
            ids += (page.keys ?? []).compactMap(\.keyId)
            marker = page.truncated == true ? page.nextMarker : nil
        } while marker != nil
        #expect(ids == ["a", "b"])
        #expect(server.requests.map { $0.json?["Limit"] as? Int } == [1, 1])
    }

    @Test func malformedJSON() async throws {
        let server = try ScriptedServer { _, _ in .json(200, #"{"KeyMetadata": {"KeyId": "#) }
        defer { server.stop() }
        await #expect(throws: ClientError(.malformedResponse, "")) {
            _ = try await kms(server).describeKey(DescribeKeyRequest(keyId: "k"))
        }
    }

    @Test func wrongJSONShape() async throws {
        let server = try ScriptedServer { _, _ in .json(200, #"{"CiphertextBlob": "not base64!", "KeyId": 7}"#) }
        defer { server.stop() }
        await #expect(throws: ClientError(.malformedResponse, "")) {
            _ = try await kms(server).encrypt(EncryptRequest(keyId: "k", plaintext: Data([1])))
        }
    }

    @Test func jsonErrorBody() async throws {
        let server = try ScriptedServer { _, _ in
            .json(400, #"{"__type":"com.amazonaws.kms#KMSInvalidStateException","message":"pending deletion"}"#)
        }
        defer { server.stop() }
        do {
            _ = try await kms(server).encrypt(EncryptRequest(keyId: "k", plaintext: Data([1])))
            Issue.record("no error")
        } catch let error as KMSError {
            #expect(error == .invalidState)
            #expect(error.message == "pending deletion")
            #expect(error.statusCode == 400)
        }
        #expect(server.requests.count == 1, "client errors are not retried")
    }

    @Test func xmlErrorBodyAndUnknownCode() async throws {
        let server = try ScriptedServer { index, _ in
            index == 0
                ? .xml(
                    403,
                    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no way</Message></Error></ErrorResponse>"
                )
                : .xml(400, "<Response><Errors><Error><Code>BrandNewException</Code></Error></Errors></Response>")
        }
        defer { server.stop() }
        let client = try kms(server)
        do {
            _ = try await client.listKeys()
        } catch let error as KMSError {
            #expect(error == .accessDenied && error.message == "no way" && error.statusCode == 403)
        }
        do {
            _ = try await client.listKeys()
        } catch let error as KMSError {
            #expect(error.code.rawValue == "BrandNewException")
        }
    }

    @Test(arguments: ["<ErrorResponse><Error><Code>Acc", "{\"__type\": ", "\u{0}\u{1}garbage", ""])
    func malformedErrorBodies(body: String) async throws {
        let server = try ScriptedServer { _, _ in .respond(status: 400, body: Array(body.utf8)) }
        defer { server.stop() }
        do {
            _ = try await kms(server).listKeys()
            Issue.record("no error")
        } catch let error as KMSError {
            #expect(error.code == .unknownError)
            #expect(error.statusCode == 400)
        }
    }

    @Test func errorTypeHeaderFallback() async throws {
        let server = try ScriptedServer { _, _ in
            .respond(status: 400, headers: [("X-Amzn-ErrorType", "NotFoundException:http://internal")], body: [])
        }
        defer { server.stop() }
        await #expect(throws: KMSError.notFound) { _ = try await kms(server).listKeys() }
    }

    @Test func truncatedBody() async throws {
        let server = try ScriptedServer { _, _ in
            .raw(
                Array(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 500\r\n\r\n{\"Keys\": ["
                        .utf8
                )
            )
        }
        defer { server.stop() }
        await #expect(throws: ClientError(.truncatedResponse, "")) { _ = try await kms(server).listKeys() }
    }

    @Test func garbageInsteadOfHTTP() async throws {
        let server = try ScriptedServer { _, _ in .raw(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) }
        defer { server.stop() }
        do {
            _ = try await kms(server).listKeys()
            Issue.record("no error")
        } catch let error as ClientError {
            #expect(error.code == .connectionFailed || error.code == .truncatedResponse)
        }
    }

    @Test func hangingServerTimesOut() async throws {
        let server = try ScriptedServer { _, _ in .hang }
        defer { server.stop() }
        await #expect(throws: ClientError(.timeout, "")) {
            _ = try await kms(
                server,
                ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(1), timeout: .milliseconds(300))
            )
            .listKeys()
        }
        #expect(server.requests.count == 2, "timeouts are retried")
    }

    @Test func hangingBodyTimesOut() async throws {
        let server = try ScriptedServer { _, _ in
            .partial(Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Keys\": [".utf8))
        }
        defer { server.stop() }
        await #expect(throws: ClientError(.timeout, "")) {
            _ = try await kms(server, ClientOptions(maxAttempts: 1, timeout: .milliseconds(300))).listKeys()
        }
    }

    @Test func connectionRefused() async throws {
        let port = try ScriptedServer.closedPort()
        let client = try KMSClient(
            region: "us-east-1",
            credentialProvider: Self.credentials,
            endpoint: URL(string: "http://127.0.0.1:\(port)")!,
            options: ClientOptions(maxAttempts: 3, baseBackoff: .milliseconds(1), timeout: .seconds(20))
        )
        do {
            _ = try await client.listKeys()
            Issue.record("no error")
        } catch let error as ClientError {
            #expect(error.code == .connectionFailed, "\(error)")
            #expect(error.reason.lowercased().contains("refused"), "\(error)")
        }
    }

    @Test func oversizedResponse() async throws {
        let big = "{\"Policy\": \"" + String(repeating: "x", count: 10_000) + "\"}"
        let server = try ScriptedServer { _, _ in .json(200, big) }
        defer { server.stop() }
        let options = ClientOptions(maxAttempts: 1, timeout: .seconds(5), maxResponseBytes: 1024)
        await #expect(throws: ClientError(.responseTooLarge, "")) {
            _ = try await kms(server, options).getKeyPolicy(GetKeyPolicyRequest(keyId: "k"))
        }
    }

    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let server = try ScriptedServer { index, _ in
            switch index {
            case 0: .json(400, #"{"__type":"ThrottlingException","message":"slow down"}"#)
            case 1: .json(500, #"{"__type":"KMSInternalException"}"#)
            case 2: .respond(status: 503, body: Array("<html>bad gateway</html>".utf8))
            default: .json(200, #"{"KeyId":"arn:aws:kms:us-east-1:111122223333:key/k"}"#)
            }
        }
        defer { server.stop() }
        let options = ClientOptions(maxAttempts: 4, baseBackoff: .milliseconds(1), timeout: .seconds(5))
        let response = try await kms(server, options).cancelKeyDeletion(CancelKeyDeletionRequest(keyId: "k"))
        #expect(response.keyId == "arn:aws:kms:us-east-1:111122223333:key/k")
        #expect(server.requests.count == 4)
    }

    @Test func retriesAreBounded() async throws {
        let server = try ScriptedServer { _, _ in .json(400, #"{"__type":"ThrottlingException"}"#) }
        defer { server.stop() }
        let options = ClientOptions(maxAttempts: 3, baseBackoff: .milliseconds(1), timeout: .seconds(5))
        await #expect(throws: KMSError.throttling) { _ = try await kms(server, options).listKeys() }
        #expect(server.requests.count == 3)
    }

    @Test func backoffHasFullJitterAndACap() {
        let options = ClientOptions(baseBackoff: .milliseconds(100), maxBackoff: .seconds(1))
        for retry in 1...12 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (retry - 1)))
            for _ in 0..<20 {
                let delay = options.backoff(beforeRetry: retry)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
    }

    // MARK: STS

    @Test func stsMalformedXML() async throws {
        let server = try ScriptedServer { _, _ in .xml(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>")
        }
        defer { server.stop() }
        await #expect(throws: ClientError(.malformedResponse, "")) { _ = try await sts(server).getCallerIdentity() }
    }

    @Test func stsMissingElements() async throws {
        let server = try ScriptedServer { _, _ in
            .xml(
                200,
                "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>"
            )
        }
        defer { server.stop() }
        await #expect(throws: ClientError(.malformedResponse, "")) {
            _ = try await sts(server).assumeRole(
                AssumeRoleRequest(roleArn: "arn:aws:iam::1:role/r", roleSessionName: "s")
            )
        }
    }

    @Test func stsRequestAndResponse() async throws {
        let server = try ScriptedServer { _, _ in
            .xml(
                200,
                """
                <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <AssumeRoleResult>
                    <AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>
                    <Credentials>
                      <AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>sek</SecretAccessKey>
                      <SessionToken>tok</SessionToken><Expiration>2030-01-02T03:04:05Z</Expiration>
                    </Credentials>
                    <PackedPolicySize>6</PackedPolicySize>
                  </AssumeRoleResult>
                  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
                </AssumeRoleResponse>
                """
            )
        }
        defer { server.stop() }
        let response = try await sts(server).assumeRole(
            AssumeRoleRequest(
                roleArn: "arn:aws:iam::1:role/r",
                roleSessionName: "s",
                durationSeconds: 900,
                externalId: "e x",
                policy: "{\"a\":1}"
            )
        )
        #expect(response.credentials.accessKeyId == "ASIAEXAMPLE")
        #expect(response.credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        #expect(response.assumedRoleArn == "arn:aws:sts::1:assumed-role/r/s")
        #expect(response.packedPolicySize == 6)
        let request = try #require(server.requests.first)
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(request.header("Authorization")?.contains("/us-east-1/sts/aws4_request") == true)
        #expect(
            String(decoding: request.body, as: UTF8.self)
                == "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s"
                + "&DurationSeconds=900&ExternalId=e+x&Policy=%7B%22a%22%3A1%7D",
            "a space is written + as botocore writes forms"
        )
    }

    @Test func stsErrorResponse() async throws {
        let server = try ScriptedServer { _, _ in
            .xml(
                403,
                """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not trusted</Message></Error>
                  <RequestId>r</RequestId>
                </ErrorResponse>
                """
            )
        }
        defer { server.stop() }
        do {
            _ = try await sts(server).assumeRole(
                AssumeRoleRequest(roleArn: "arn:aws:iam::1:role/r", roleSessionName: "s")
            )
            Issue.record("no error")
        } catch let error as STSError {
            #expect(error == .accessDenied && error.message == "not trusted" && error.statusCode == 403)
        }
    }

    @Test func stsTruncatedAndRefused() async throws {
        let server = try ScriptedServer { _, _ in
            .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n<GetCallerIdentityResponse>".utf8))
        }
        defer { server.stop() }
        await #expect(throws: ClientError(.truncatedResponse, "")) { _ = try await sts(server).getCallerIdentity() }
        let refused = try STSClient(
            region: "us-east-1",
            credentialProvider: Self.credentials,
            endpoint: URL(string: "http://127.0.0.1:\(try ScriptedServer.closedPort())")!,
            options: ClientOptions(maxAttempts: 1)  // the default 30-second timeout: refusal must not wait for it
        )
        await #expect(throws: ClientError(.connectionFailed, "")) { _ = try await refused.getCallerIdentity() }
    }

    @Test func invalidEndpoint() {
        #expect(throws: ClientError(.invalidConfiguration, "")) {
            _ = try KMSClient(
                region: "us-east-1",
                credentialProvider: Self.credentials,
                endpoint: URL(string: "file:///tmp")!
            )
        }
    }
}
