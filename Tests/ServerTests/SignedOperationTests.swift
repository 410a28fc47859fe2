import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMS
import NIOCore
import Server
import SigV4
import Testing

/// The operation a request names must be covered by its signature, and no served operation takes a presigned URL.
@Suite struct SignedOperationTests {
    /// A KMS request for `target`, signed over every header but those in `unsigned`; `sentTarget` replaces the
    /// target after signing, as someone replaying a captured request would.
    static func send(
        _ client: Client,
        target: String,
        sentTarget: String? = nil,
        body: String,
        unsigned: Set<String>
    ) async throws -> TestResponse {
        let headers: [(name: String, value: String)] = [
            (name: "host", value: "localhost"), (name: "content-type", value: AWSJSON.contentType),
            (name: "x-amz-target", value: target),
        ]
        var options = Signer.Options()
        options.unsignedHeaders.formUnion(unsigned)
        let signature = Signer(options: options).sign(
            SigV4.Request(method: "POST", path: "/", headers: headers, payload: .body(Array(body.utf8))),
            credentials: Credentials(
                accessKeyId: Fixture.admin.accessKeyId,
                secretAccessKey: Fixture.admin.secretAccessKey
            ),
            region: Fixture.region,
            service: "kms",
            date: Date()
        )
        var fields: HTTPFields = [.contentType: AWSJSON.contentType]
        fields[HTTPField.Name("x-amz-target")!] = sentTarget ?? target
        for header in signature.headers { fields.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value)) }
        return try await client.client.execute(uri: "/", method: .post, headers: fields, body: ByteBuffer(string: body))
    }

    @Test func anUnsignedTargetCannotBeSwapped() async throws {
        try await Fixture().withRouter { client in
            let key = try #require(try await client.send(CreateKeyRequest()).keyMetadata?.keyId)
            let body = #"{"KeyId":"\#(key)"}"#
            // Signed over host and X-Amz-Date only: refused as it was signed, and as another operation.
            for sent in ["TrentService.DescribeKey", "TrentService.ScheduleKeyDeletion"] {
                let response = try await Self.send(
                    client,
                    target: "TrentService.DescribeKey",
                    sentTarget: sent,
                    body: body,
                    unsigned: ["x-amz-target", "content-type"]
                )
                #expect(response.status == .badRequest)
                let error = Client.error(response)
                #expect(error.code.rawValue == "IncompleteSignatureException")
                #expect(error.message.contains("x-amz-target"), "\(error.message)")
            }
            #expect(try await client.send(DescribeKeyRequest(keyId: key)).keyMetadata?.keyState == .enabled)
            // The same request with its target signed is answered.
            let signed = try await Self.send(
                client,
                target: "TrentService.DescribeKey",
                body: body,
                unsigned: ["content-type"]
            )
            #expect(signed.status == .ok)
        }
    }

    @Test func presignedURLsAreRefused() async throws {
        try await Fixture().withRouter { client in
            let credentials = Credentials(
                accessKeyId: Fixture.admin.accessKeyId,
                secretAccessKey: Fixture.admin.secretAccessKey
            )
            // A KMS POST signed in the query, its target among the signed headers.
            let body = Array("{}".utf8)
            let headers: [(name: String, value: String)] = [
                (name: "host", value: "localhost"), (name: "content-type", value: AWSJSON.contentType),
                (name: "x-amz-target", value: "TrentService.ListKeys"),
            ]
            let kms = Signer().presign(
                SigV4.Request(method: "POST", path: "/", headers: headers, payload: .body(body)),
                credentials: credentials,
                region: Fixture.region,
                service: "kms",
                date: Date(),
                expires: .seconds(300)
            )
            let posted = try await client.client.execute(
                uri: "/?\(kms.query)",
                method: .post,
                headers: [.contentType: AWSJSON.contentType, HTTPField.Name("x-amz-target")!: "TrentService.ListKeys"],
                body: ByteBuffer(bytes: body)
            )
            #expect(posted.status == .badRequest)
            #expect(Client.error(posted).code.rawValue == "IncompleteSignatureException")
            #expect(Client.error(posted).message.contains("presigned"))

            // An STS query request signed in its URL (no route here answers GET: `GET /` is not served at all).
            let form = Array("Action=GetCallerIdentity&Version=2011-06-15".utf8)
            let sts = Signer().presign(
                SigV4.Request(
                    method: "POST",
                    path: "/",
                    headers: [
                        (name: "host", value: "localhost"),
                        (name: "content-type", value: "application/x-www-form-urlencoded"),
                    ],
                    payload: .body(form)
                ),
                credentials: credentials,
                region: Fixture.region,
                service: "sts",
                date: Date(),
                expires: .seconds(300)
            )
            let query = try await client.client.execute(
                uri: "/?\(sts.query)",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(bytes: form)
            )
            #expect(query.status == .badRequest)
            #expect(String(buffer: query.body).contains("<Code>IncompleteSignature</Code>"), "\(String(buffer: query.body))")
        }
    }
}
