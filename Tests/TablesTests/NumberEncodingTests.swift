import Testing

@testable import Tables

/// DynamoDB numbers: validation, one key for every spelling of a number, and byte order that is numeric order.
struct NumberEncodingTests {
    @Test func spellingsOfOneNumberEncodeAlike() {
        #expect(NumberEncoding.encode("1") == NumberEncoding.encode("1.0"))
        #expect(NumberEncoding.encode("1") == NumberEncoding.encode("10E-1"))
        #expect(NumberEncoding.encode("0.00") == NumberEncoding.encode("-0"))
        #expect(NumberEncoding.encode("+12.5") == NumberEncoding.encode("1.25e1"))
        #expect(NumberEncoding.encode("1") != NumberEncoding.encode("10"))
    }

    @Test func bytesOrderAsTheNumbers() {
        let ascending = [
            "-1E125", "-100", "-10.5", "-10", "-9.99", "-1.01", "-1", "-0.5", "-1E-129", "0", "1E-129", "0.5", "1",
            "1.01",
            "9.99", "10", "10.5", "100", "123456789012345678901234567890.12345678", "1E125",
        ]
        let encoded = ascending.map { NumberEncoding.encode($0)! }
        for (lower, higher) in zip(encoded, encoded.dropFirst()) {
            #expect(lower.lexicographicallyPrecedes(higher), "\(lower) < \(higher)")
        }
        // Any shuffle sorts back into numeric order.
        let shuffled = zip(ascending, encoded).shuffled()
        #expect(shuffled.sorted { $0.1.lexicographicallyPrecedes($1.1) }.map(\.0) == ascending)
    }

    @Test(arguments: [
        ("", NumberEncoding.Problem.notANumber), ("abc", .notANumber), ("1.2.3", .notANumber), ("1e", .notANumber),
        ("--1", .notANumber), (" 1", .notANumber), ("0x10", .notANumber), (".", .notANumber),
        ("1E126", .overflow), ("-1E200", .overflow), ("1E-131", .underflow),
        ("1234567890123456789012345678901234567890", .precision),
    ])
    func invalidNumbersAreRefused(text: String, problem: NumberEncoding.Problem) {
        #expect(throws: problem) { try NumberEncoding.parse(text) }
    }

    @Test func limitsAreInclusiveWhereDynamoDBsAre() throws {
        _ = try NumberEncoding.parse("9.9999999999999999999999999999999999999E+125")
        _ = try NumberEncoding.parse("1E-130")
        _ = try NumberEncoding.parse("12345678901234567890123456789012345678")
        _ = try NumberEncoding.parse("1234567890123456789012345678901234567800000")  // trailing zeros are not digits
    }
}
