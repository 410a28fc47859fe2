import Testing

@testable import SigV4

/// The `Authorization` header's split into algorithm and components, on its bytes.
@Suite("Authorization header")
struct AuthorizationHeaderTests {
    /// The parts of `header` as text, or the problem's detail.
    private func parse(_ header: String) -> Result<[String], AuthorizationHeader.Problem> {
        var header = header
        return header.withUTF8 { bytes in
            AuthorizationHeader.parts(of: bytes).map { parts in
                [parts.algorithm, parts.credential, parts.signedHeaders, parts.signature].map {
                    String(decoding: bytes[$0], as: UTF8.self)
                }
            }
        }
    }

    private func detail(_ header: String) -> String? {
        if case .failure(let problem) = parse(header) { return problem.detail }
        return nil
    }

    @Test("components in any order, trimmed, with empty ones skipped")
    func wellFormed() throws {
        let parts = try parse(
            " \tAWS4-HMAC-SHA256  Signature=abc ,, SignedHeaders=host;x-amz-date,Credential=AK/d/r/s/aws4_request, "
        )
        .get()
        #expect(parts == ["AWS4-HMAC-SHA256", "AK/d/r/s/aws4_request", "host;x-amz-date", "abc"])
        #expect(try parse("A Credential=,SignedHeaders=,Signature=").get() == ["A", "", "", ""])
        #expect(try parse("A Credential=x=y,SignedHeaders=h,Signature=s").get()[1] == "x=y")
    }

    @Test("each malformed header gets its own detail")
    func malformed() {
        #expect(detail("AWS4-HMAC-SHA256") == "the Authorization header has no components")
        #expect(detail("   ") == "the Authorization header has no components")
        #expect(
            detail("A Credential=c, =x, SignedHeaders=h, Signature=s")
                == "the Authorization header has a component without a name"
        )
        #expect(detail("A Credential=c, Signature") == "the Authorization header has a component without a name")
        #expect(
            detail("A Credential=c, Region=r, SignedHeaders=h, Signature=s")
                == "the Authorization header has an unknown component Region"
        )
        #expect(
            detail("A credential=c, SignedHeaders=h, Signature=s")
                == "the Authorization header has an unknown component credential"
        )
        #expect(
            detail("A Credential=c, SignedHeaders=h, Signature=s, Signature=t")
                == "the Authorization header repeats Signature"
        )
        #expect(
            detail("A Credential=c, SignedHeaders=h")
                == "the Authorization header needs Credential, SignedHeaders and Signature"
        )
        #expect(
            detail("A Credential=c, SignedHeaders=h, Signatures=s")
                == "the Authorization header has an unknown component Signatures"
        )
    }
}
