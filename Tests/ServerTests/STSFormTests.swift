import Testing

@testable import Server

/// The STS query protocol's form bodies (`application/x-www-form-urlencoded`).
@Suite struct STSFormTests {
    @Test func plusIsASpaceThenEscapesAreDecoded() {
        let fields = STSRoutes.parseForm("Action=AssumeRole&RoleSessionName=a+b%2Fc%2B&Policy=%7B%22a%22%3A1%7D&Empty")
        #expect(fields == ["Action": "AssumeRole", "RoleSessionName": "a b/c+", "Policy": #"{"a":1}"#, "Empty": ""])
    }

    /// A value with a bad escape or escapes that are not UTF-8 is kept as sent.
    @Test(arguments: ["%zz", "a+%4", "%ff"])
    func badEscapesKeepTheRawValue(value: String) {
        #expect(STSRoutes.parseForm("Name=\(value)") == ["Name": value])
    }
}
