import Testing
import WireShapes

/// The STS query protocol's form bodies (`application/x-www-form-urlencoded`) and the requests read from them.
@Suite struct STSFormTests {
    @Test func plusIsASpaceThenEscapesAreDecoded() {
        let fields = STSForm.decode(
            Array("Action=AssumeRole&RoleSessionName=a+b%2Fc%2B&Policy=%7B%22a%22%3A1%7D&Empty".utf8)
        )
        #expect(fields == ["Action": "AssumeRole", "RoleSessionName": "a b/c+", "Policy": #"{"a":1}"#, "Empty": ""])
    }

    /// A value with a bad escape or escapes that are not UTF-8 is kept as sent.
    @Test(arguments: ["%zz", "a+%4", "%ff"])
    func badEscapesKeepTheRawValue(value: String) {
        #expect(STSForm.decode(Array("Name=\(value)".utf8)) == ["Name": value])
    }

    /// `&`, `=` and `+` are matched as bytes: one followed by a combining mark still separates or is a space.
    @Test func separatorsBeforeCombiningMarksStillSeparate() {
        let fields = STSForm.decode(Array("A=1&\u{0301}B=x=\u{0301}&C=a+\u{0301}".utf8))
        #expect(fields == ["A": "1", "\u{0301}B": "x=\u{0301}", "C": "a \u{0301}"])
    }

    /// Whatever the client encodes, the server reads back exactly, whatever bytes the names and values hold.
    @Test(arguments: [
        [("RoleArn", "arn:aws:iam::000000000000:role/sealed/reader-orders"), ("RoleSessionName", "a b+c/d=e&f")],
        [("Name", ""), ("", "empty name"), ("Ünïcödé ✓", "%41 %zz +")],
    ])
    func encodedFieldsDecodeToThemselves(pairs: [(String, String)]) {
        let body = STSForm.encode(pairs.map { (name: $0.0, value: $0.1) })
        #expect(STSForm.decode(Array(body.utf8)) == Dictionary(pairs, uniquingKeysWith: { $1 }))
    }

    /// Spaces are `+` (a literal `+` is `%2B`), as botocore writes forms.
    @Test func spacesAreWrittenAsPlus() {
        #expect(STSForm.encode([(name: "Description", value: "reads a+b")]) == "Description=reads+a%2Bb")
    }

    @Test func requestsRoundTripThroughTheirParameters() throws {
        let requests: [STSQueryRequest] = [
            .assumeRole(roleArn: "arn:aws:iam::000000000000:role/r", sessionName: "s", durationSeconds: 900),
            .assumeRole(roleArn: "arn:aws:iam::000000000000:role/r", sessionName: "s", durationSeconds: nil),
            .getCallerIdentity,
        ]
        for request in requests {
            let body = STSForm.encode(request.parameters)
            #expect(try STSQueryRequest(fields: STSForm.decode(Array(body.utf8))) == request)
        }
    }

    @Test(arguments: [
        ("", "MissingAction"),
        ("Action=Nope", "InvalidAction"),
        ("Action=AssumeRole&RoleSessionName=s", "MissingParameter"),
        ("Action=AssumeRole&RoleArn=r", "MissingParameter"),
        ("Action=AssumeRole&RoleArn=r&RoleSessionName=s&DurationSeconds=12x", "ValidationError"),
    ])
    func refusalsCarrySTSCodes(body: String, code: String) {
        #expect(throws: STSError(code: STSError.Code(rawValue: code))) {
            try STSQueryRequest(fields: STSForm.decode(Array(body.utf8)))
        }
    }
}
