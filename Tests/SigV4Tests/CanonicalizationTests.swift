import Foundation
import SigV4
import Testing

/// Canonicalization rules beyond what the AWS suite exercises, read off the signer's canonical request.
struct CanonicalizationTests {
    private static func canonicalLines(
        path: String = "/",
        query: String = "",
        headers: [(name: String, value: String)] = [(name: "Host", value: "example.amazonaws.com")],
        pathCanonicalization: PathCanonicalization = .normalized,
        unsignedHeaders: Set<String> = Signer.Options.defaultUnsignedHeaders
    ) -> [Substring] {
        let signer = Signer(
            options: Signer.Options(pathCanonicalization: pathCanonicalization, unsignedHeaders: unsignedHeaders)
        )
        let signature = signer.sign(
            Request(method: "GET", path: path, query: query, headers: headers),
            credentials: Fixture.longTerm,
            region: "us-east-1",
            service: "service",
            date: Fixture.now
        )
        return signature.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
    }

    @Test(
        "paths of services other than S3 are normalized and encoded again",
        arguments: [
            ("", "/"),
            ("/", "/"),
            ("/a%20b", "/a%2520b"),
            ("/example/$delete", "/example/%24delete"),
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/../..", "/"),
            ("//a///b//", "/a/b/"),
            ("/ሴ", "/%E1%88%B4"),
            ("/a+b=c", "/a%2Bb%3Dc"),
            ("/-._~", "/-._~"),
        ]
    )
    func normalizedPath(path: String, expected: String) {
        #expect(Self.canonicalLines(path: path, pathCanonicalization: .normalized)[1] == expected)
    }

    @Test(
        "S3 paths are kept as sent and encoded once",
        arguments: [
            ("", "/"),
            ("/a%20b", "/a%20b"),
            ("/a%2fb", "/a%2Fb"),
            ("/%7e", "/~"),
            ("/a/b/../c", "/a/b/../c"),
            ("//a//", "//a//"),
            ("/example/$delete", "/example/%24delete"),
            ("/100%", "/100%25"),
            ("/a b", "/a%20b"),
        ]
    )
    func unnormalizedPath(path: String, expected: String) {
        #expect(Self.canonicalLines(path: path, pathCanonicalization: .unnormalized)[1] == expected)
    }

    @Test(
        "query strings are decoded, encoded again and sorted by name then value",
        arguments: [
            ("", ""),
            ("b=2&a=1", "a=1&b=2"),
            ("a=2&a=10&a=1", "a=1&a=10&a=2"),
            ("flag", "flag="),
            ("a=1&&b=2", "a=1&b=2"),
            ("x=a+b", "x=a%2Bb"),
            ("x=%41%7e", "x=A~"),
            ("x=a b", "x=a%20b"),
            ("%E1%88%B4=1&ሴ=0", "%E1%88%B4=0&%E1%88%B4=1"),
            ("param=v&Param=v", "Param=v&param=v"),
            ("x==y", "x=%3Dy"),
            ("x=%zz", "x=%25zz"),
        ]
    )
    func query(raw: String, expected: String) {
        #expect(Self.canonicalLines(query: raw)[2] == expected)
    }

    @Test("headers are lower-cased, trimmed, joined and sorted; unsigned ones are left out")
    func headers() {
        let lines = Self.canonicalLines(headers: [
            (name: "Host", value: "example.amazonaws.com"),
            (name: "User-Agent", value: "test/1.0"),
            (name: "X-Multi", value: " b "),
            (name: "Authorization", value: "stale"),
            (name: "x-multi", value: "a\t\tc"),
            (name: "X-Amz-Date", value: "19990101T000000Z"),
            (name: "X-Empty", value: "  "),
        ])
        #expect(
            Array(lines[3...]) == [
                "host:example.amazonaws.com", "x-amz-date:20261129T101500Z", "x-empty:", "x-multi:b,a c", "",
                "host;x-amz-date;x-empty;x-multi",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ]
        )

        let custom = Self.canonicalLines(
            headers: [(name: "Host", value: "h"), (name: "User-Agent", value: "u"), (name: "X-Skip", value: "s")],
            unsignedHeaders: ["x-skip"]
        )
        #expect(custom[custom.count - 2] == "host;user-agent;x-amz-date")
    }

    @Test(
        "X-Amz-Date is formatted by hand and parsed back by the verifier",
        arguments: [
            (0, "19700101T000000Z"),
            (1_440_938_160, "20150830T123600Z"),
            (951_782_400, "20000229T000000Z"),
            (1_709_164_800, "20240229T000000Z"),
            (1_582_934_400, "20200229T000000Z"),
            (4_107_542_400, "21000301T000000Z"),
            (-1, "19691231T235959Z"),
            (4_102_444_799, "20991231T235959Z"),
            (253_402_300_799, "99991231T235959Z"),
        ]
    )
    func amzDate(seconds: Int, expected: String) async throws {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds) + 0.75)  // fractions are dropped
        let signature = Signer().sign(
            Fixture.request(),
            credentials: Fixture.longTerm,
            region: Fixture.region,
            service: Fixture.service,
            date: date
        )
        #expect(signature.headers.first { $0.name == "X-Amz-Date" }?.value == expected)
        #expect(signature.authorization.contains("/\(expected.prefix(8))/us-east-1/kms/aws4_request"))

        var signed = Fixture.request()
        signed.headers = applying(signature.headers, to: signed.headers)
        let verification = try await Fixture.verifier(now: date).verify(signed)
        #expect(verification.principal?.signedAt == Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    @Test("the query of a request built from items is URI-encoded")
    func queryItems() {
        let request = Request(
            method: "GET",
            path: "/",
            queryItems: [(name: "Action", value: "AssumeRole"), (name: "a b", value: "x/y+z=ሴ~")]
        )
        #expect(request.query == "Action=AssumeRole&a%20b=x%2Fy%2Bz%3D%E1%88%B4~")
    }

    @Test("payload values")
    func payloads() {
        #expect(Payload.body([UInt8]()) == .empty)
        #expect(
            Payload.body(Data("Param1=value1".utf8)).value
                == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        )
        #expect(Payload.sha256(hex: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855") == .empty)
        #expect(Payload.sha256(hex: "e3b0") == nil)
        #expect(Payload.sha256(hex: String(repeating: "g", count: 64)) == nil)
        #expect(Payload.unsigned.isUnsigned)
        #expect(Payload.unsigned.value == "UNSIGNED-PAYLOAD")
        #expect(!Payload.empty.isUnsigned)
    }
}

struct SecretHandlingTests {
    @Test("credentials never show their secret or session token")
    func credentialsAreRedacted() {
        let credentials = Fixture.session
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(reflecting: credentials), dumped] {
            #expect(text.contains(credentials.accessKeyId))
            #expect(!text.contains(credentials.secretAccessKey))
            #expect(!text.contains(credentials.sessionToken!))
        }
    }

    @Test("verifier secrets never show their secret or session token, and show their owner")
    func secretsAreRedacted() throws {
        var secret = try #require(Fixture.secret(for: Fixture.session.accessKeyId))
        secret.owner = "arn:aws:sts::000000000000:assumed-role/reader/session"
        var dumped = ""
        dump(secret, to: &dumped)
        for text in ["\(secret)", String(reflecting: secret), dumped] {
            #expect(!text.contains(secret.secretAccessKey))
            #expect(!text.contains(secret.sessionToken!))
            #expect(text.contains("assumed-role/reader/session"))
        }
    }

    @Test("rejections compare by reason")
    func rejectionEquality() {
        let one = Rejection(.signatureMismatch, accessKeyId: "A", detail: "one")
        let two = Rejection(.signatureMismatch, accessKeyId: "B", detail: "two")
        #expect(one == two)
        #expect(one != Rejection(.unknownAccessKey, detail: "one"))
        #expect("\(one)" == "signatureMismatch: one")
    }
}
