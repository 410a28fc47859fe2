import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMS
import KeyService
import Logging
import NIOCore
import Server
import SigV4
import Testing

/// A server over an in-memory key store, with an administrator and a reader, and a client that signs requests the
/// way botocore does.
struct Fixture {
    static let region = "us-east-1"
    static let admin = Authentication.User(
        accessKeyId: "AKIAADMINISTRATOR001",
        secretAccessKey: "admin/secret/key/for/tests/only/0000000",
        principalARN: "arn:aws:iam::000000000000:user/admin"
    )
    static let reader = Authentication.User(
        accessKeyId: "AKIAREADER0000000001",
        secretAccessKey: "reader/secret/key/for/tests/only/000000",
        principalARN: "arn:aws:iam::000000000000:user/reader"
    )
    static let session = Authentication.User(
        accessKeyId: "ASIASESSION000000001",
        secretAccessKey: "session/secret/key/for/tests/only/00000",
        principalARN: "arn:aws:sts::000000000000:assumed-role/admin/s",
        sessionToken: "session-token",
        expiration: Date(timeIntervalSince1970: 1_000)
    )

    let server: SealedServer

    init(
        port: Int = 0,
        idleTimeout: Duration = .seconds(90),
        headerTimeout: Duration = .seconds(30),
        authentication: Authentication = .fixed([Fixture.admin, Fixture.reader, Fixture.session])
    ) throws {
        let keyService = try KeyService(
            store: InMemoryKeyStore(),
            rootKey: SymmetricKey(size: .bits256),
            authorizer: AdministratorAuthorizer(administrators: [Self.admin.principalARN, Self.session.principalARN])
        )
        server = SealedServer(
            configuration: SealedServer.Configuration(
                host: "127.0.0.1",
                port: port,
                region: Self.region,
                idleTimeout: idleTimeout,
                headerTimeout: headerTimeout
            ),
            keyService: keyService,
            authentication: authentication,
            logger: Self.logger
        )
    }

    /// Quiet unless something fails: set `SERVER_TESTS_LOG_LEVEL=info` to see one line per request.
    static let logger: Logger = {
        var logger = Logger(label: "server-tests")
        logger.logLevel =
            ProcessInfo.processInfo.environment["SERVER_TESTS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// Runs `test` against the router in process.
    func withRouter<T: Sendable>(_ test: @Sendable (Client) async throws -> T) async throws -> T {
        let app = Application(router: server.router(), logger: Self.logger)
        return try await app.test(.router) { client in try await test(Client(client: client)) }
    }
}

/// A KMS-speaking client over a Hummingbird test client.
struct Client: Sendable {
    let client: any TestClientProtocol

    /// What to send: every part overridable so tests can break one.
    struct Send {
        var target: String?
        var contentType: String? = AWSJSON.contentType
        var body: [UInt8]
        var user: Authentication.User? = Fixture.admin
        var date = Date()
        var region = Fixture.region
        var service = "kms"
        var sessionToken: String?
        /// Applied after signing.
        var tamper: (@Sendable (inout [UInt8]) -> Void)?
    }

    func raw(_ send: Send) async throws -> TestResponse {
        var headers: [(name: String, value: String)] = [(name: "host", value: "localhost")]
        if let contentType = send.contentType { headers.append((name: "content-type", value: contentType)) }
        if let target = send.target { headers.append((name: "x-amz-target", value: target)) }
        var fields = HTTPFields()
        for (name, value) in headers where name != "host" { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        if let user = send.user {
            let signature = Signer().sign(
                SigV4.Request(method: "POST", path: "/", headers: headers, payload: .body(send.body)),
                credentials: Credentials(
                    accessKeyId: user.accessKeyId,
                    secretAccessKey: user.secretAccessKey,
                    sessionToken: send.sessionToken ?? user.sessionToken
                ),
                region: send.region,
                service: send.service,
                date: send.date
            )
            for header in signature.headers { fields.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value)) }
        }
        var body = send.body
        send.tamper?(&body)
        return try await client.execute(uri: "/", method: .post, headers: fields, body: ByteBuffer(bytes: body))
    }

    /// Sends a KMS request; a non-2xx answer is thrown as the ``KMSError`` in its body.
    func send<R: KMSRequest>(_ request: R, as user: Authentication.User = Fixture.admin) async throws -> R.Response {
        let body = Array(try AWSJSON.encoder().encode(request))
        let response = try await raw(Send(target: R.operation.target, body: body, user: user))
        guard response.status == .ok else { throw Self.error(response) }
        #expect(response.headers[.contentType] == AWSJSON.contentType)
        return try AWSJSON.decoder().decode(R.Response.self, from: Data(response.body.readableBytesView))
    }

    static func error(_ response: TestResponse) -> KMSError {
        guard let shape = try? AWSJSON.decoder().decode(AWSErrorShape.self, from: Data(response.body.readableBytesView))
        else { return KMSError(code: .unknownError, message: String(buffer: response.body), statusCode: Int(response.status.code)) }
        return KMSError(code: .init(rawValue: shape.code), message: shape.message ?? "", statusCode: Int(response.status.code))
    }
}
