import Foundation
import HTTPTypes
import HummingbirdTesting
import KMS
import Server
import Testing

/// Security review finding 1 (issue 17) on the KMS wire: every number member of the JSON 1.1 shapes, sent with the
/// values that trap careless conversions (beyond 64 bits, exponents, fractions, negative, out of AWS's range), is a
/// 400 with AWS's error name (`SerializationException` when it is not an integer of the member's type,
/// `ValidationException` when it is out of range), and the server keeps answering.
@Suite struct HostileNumberTests {
    struct Member: CustomStringConvertible {
        var operation: String
        /// The body with `#` where the number goes; `KEY` is replaced by a key id.
        var template: String
        var description: String { "\(operation) \(template)" }
    }

    static let members: [Member] = [
        Member(operation: "GenerateDataKey", template: #"{"KeyId":"KEY","NumberOfBytes":#}"#),
        Member(operation: "GenerateDataKeyWithoutPlaintext", template: #"{"KeyId":"KEY","NumberOfBytes":#}"#),
        Member(operation: "GenerateRandom", template: #"{"NumberOfBytes":#}"#),
        Member(operation: "ScheduleKeyDeletion", template: #"{"KeyId":"KEY","PendingWindowInDays":#}"#),
        Member(operation: "EnableKeyRotation", template: #"{"KeyId":"KEY","RotationPeriodInDays":#}"#),
        Member(operation: "ListKeys", template: #"{"Limit":#}"#),
        Member(operation: "ListAliases", template: #"{"Limit":#}"#),
        Member(operation: "ListResourceTags", template: #"{"KeyId":"KEY","Limit":#}"#),
        Member(operation: "ListKeyRotations", template: #"{"KeyId":"KEY","Limit":#}"#),
    ]

    static let numbers = [
        "18446744073709551616", "9223372036854775808", "9223372036854775807", "-9223372036854775808",
        "-1", "0", "1e300", "-1e300", "1.5", #""12""#, "null", "true", "99999999999999999999999999999",
    ]

    @Test(arguments: members)
    func everyNumberMemberRefusesHostileValues(_ member: Member) async throws {
        try await Fixture().withRouter { client in
            let key = try #require(try await client.send(CreateKeyRequest()).keyMetadata?.keyId)
            for number in Self.numbers {
                // `null` means the member is absent, which several operations accept.
                if number == "null", !["GenerateRandom"].contains(member.operation) { continue }
                let body = member.template.replacingOccurrences(of: "KEY", with: key)
                    .replacingOccurrences(of: "#", with: number)
                let response = try await client.raw(
                    .init(target: "TrentService.\(member.operation)", body: Array(body.utf8))
                )
                #expect(response.status == .badRequest, "\(member.operation) \(number): \(response.status)")
                let code = Client.error(response).code
                #expect(
                    code == .serializationException || code == .validationException,
                    "\(member.operation) \(number): \(code)"
                )
            }
            // The server still answers, and the key is untouched by the refused calls.
            let described = try await client.send(DescribeKeyRequest(keyId: key))
            #expect(described.keyMetadata?.keyState == .enabled)
        }
    }
}
