import SigV4
import Testing

/// Rejections and parse errors compare and hash by their reason alone and describe themselves as before.
struct ErrorEqualityTests {
    @Test func rejections() {
        let rejection = Rejection(.unknownAccessKey, accessKeyId: "AKIDEXAMPLE", detail: "no such key")
        #expect(rejection == Rejection(.unknownAccessKey, detail: "other words"))
        #expect(rejection != Rejection(.missingAuthentication, accessKeyId: "AKIDEXAMPLE", detail: "no such key"))
        #expect(rejection.hashValue == Rejection(.unknownAccessKey, detail: "").hashValue)
        #expect(rejection.description == "\(Rejection.Reason.unknownAccessKey): no such key")
    }

    @Test func parseErrors() {
        let error = Request.ParseError(.malformedHeader, line: 3, detail: "line 3: no colon")
        #expect(error == Request.ParseError(.malformedHeader, line: 9, detail: "other"))
        #expect(error != Request.ParseError(.missingRequestLine, line: 3, detail: "line 3: no colon"))
        #expect(error.hashValue == Request.ParseError(.malformedHeader, line: 1, detail: "").hashValue)
        #expect(error.description == "line 3: no colon")
    }
}
