import Foundation
import SealedSupport
import SealedTesting
import Testing
import WireShapes

/// The byte-level JSON 1.1 coder of the hot operations' shapes against Foundation's `JSONEncoder`/`JSONDecoder` with
/// the ``AWSJSON`` settings, on seeded random shapes and on random mutations of their JSON.
///
/// Encoding is compared byte for byte: the server's responses and the client's requests must not change at all
/// (member order, escapes, base64, number spelling). Decoding is compared on the value or on the error (its kind
/// and coding path, from which the server builds its messages), for every body the strict parser lets through.
struct AWSJSONCoderTests {
    /// A shape both coders handle.
    protocol Shape: AWSJSONDecodable, AWSJSONEncodable, Codable, Hashable {
        static func random(_ random: inout RandomShapes) -> Self
        /// The member names the shape has, to aim mutations at.
        static var memberNames: [String] { get }
    }

    static let shapes: [any Shape.Type] = [
        EncryptRequest.self, EncryptResponse.self, DecryptRequest.self, DecryptResponse.self, ReEncryptRequest.self,
        ReEncryptResponse.self, GenerateDataKeyRequest.self, GenerateDataKeyResponse.self,
        GenerateDataKeyWithoutPlaintextRequest.self, GenerateDataKeyWithoutPlaintextResponse.self,
    ]

    @Test func encodesTheBytesFoundationEncodes() throws {
        var random = RandomShapes(seed: 0x4A53_4F4E)
        for type in Self.shapes {
            for _ in 0..<300 { try Self.checkEncoding(type.random(&random)) }
        }
    }

    static func checkEncoding<S: Shape>(_ shape: S) throws {
        let foundation = Array(try AWSJSON.encoder().encode(shape))
        let bytes = shape.awsJSON()
        #expect(
            bytes == foundation,
            "\(String(decoding: bytes, as: UTF8.self)) ≠ \(String(decoding: foundation, as: UTF8.self))"
        )
    }

    @Test func decodesAsFoundationDecodes() throws {
        var random = RandomShapes(seed: 0xDEC0DE)
        var decoded = 0
        var refused = 0
        for type in Self.shapes {
            for _ in 0..<2_000 { try Self.checkDecoding(type, &random, decoded: &decoded, refused: &refused) }
        }
        // Both outcomes are exercised, not only one.
        #expect(decoded > 5_000 && refused > 5_000, "decoded \(decoded), refused \(refused)")
    }

    static func checkDecoding<S: Shape>(
        _ type: S.Type,
        _ random: inout RandomShapes,
        decoded: inout Int,
        refused: inout Int
    ) throws {
        let original = try JSONParser.parse(try AWSJSON.encoder().encode(S.random(&random)))
        let value = random.mutate(original, memberNames: S.memberNames)
        let bytes = value.serialized()
        // The server refuses what the strict parser refuses before either coder reads it.
        guard let parsed = try? JSONParser.parse(bytes, options: JSONParser.Options(maximumDepth: 512)) else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        let ours = Result { () throws(AWSJSONDecodingError) in try S(awsJSON: AWSJSONReader(parsed)) }
        let theirs: Result<S, AWSJSONDecodingError>
        do {
            theirs = .success(try AWSJSON.decoder().decode(S.self, from: Data(bytes)))
        } catch let error as DecodingError {
            theirs = .failure(try #require(AWSJSONDecodingError(error), "\(error)"))
        }
        if case .failure(let our) = ours, case .failure(let their) = theirs, our != their, our.path.count == 2,
            their.path.count == 2, our.path[0] == their.path[0]
        {
            // A map with several bad entries: Foundation reports one in the order of its `Dictionary`, which is
            // seeded per process; ours reports the first in the text. Both must be errors of that map.
            let errors = Self.entryErrors(parsed, map: our.path[0])
            #expect(errors.contains(our) && errors.contains(their), "\(S.self) \(text)")
        } else {
            #expect(ours == theirs, "\(S.self) \(text)")
        }
        if case .success = ours { decoded += 1 } else { refused += 1 }
    }

    /// The errors of the entries of a string map member: `null` and values of other types, of the first of
    /// equivalent keys.
    static func entryErrors(_ value: JSONValue, map name: String) -> [AWSJSONDecodingError] {
        guard case .object(let object)? = value.objectValue?.first(where: { $0.key == name })?.value else { return [] }
        var seen: Set<String> = []
        var errors: [AWSJSONDecodingError] = []
        for entry in object where seen.insert(entry.key).inserted {
            switch entry.value {
            case .string: break
            case .null: errors.append(AWSJSONDecodingError(.missing, path: [name, entry.key]))
            default: errors.append(AWSJSONDecodingError(.wrongType, path: [name, entry.key]))
            }
        }
        return errors
    }

    /// Integers spelled every way JSON allows, around the places where Foundation changes method: 2^53 (from the
    /// `Double` to a `Decimal`), 2^63, 64-bit and 128-bit mantissas, trailing zeros, dropped fraction digits.
    static let integerSpellings = [
        "0", "-0", "-0.0", "1.0", "1e2", "1E+2", "100e-2", "0.1e1", "1.5", "-0.5", "1e-2", "1e-400", "1e300", "1e400",
        "-1e400", "1.0000000000000001", "4096", "9007199254740992", "9007199254740993", "9007199254740993.0",
        "9007199254740993.5", "-9007199254740993.5", "9007199254740992.9", "9007199254740993e0", "9.007199254740993e15",
        "90071992547409930e-1", "9007199254740993000e-3", "90071992547409930000000e-7", "0.09007199254740993e17",
        "9007199254740993.000", "9007199254740993.0000000000000", "9007199254740993.9999999999999999999999",
        "9007199254740993.0000000000000000000001", "9007199254740993.00000000000000000000001",
        "9007199254740993.00000000000000000000009", "9007199254740993.0000000000000000000000000000000000000000",
        "9223372036854774784.0", "9223372036854775295.9", "9223372036854775296.0", "9223372036854775807",
        "9223372036854775807.0", "9223372036854775808", "-9223372036854775807.0", "-9223372036854775808",
        "-9223372036854775808.0", "-9223372036854775808.5", "-9223372036854775809", "1e18", "1.5e18", "-1.5E+18",
        "92233720368547758.07e2", "9.2233720368547758e18", "12345678901234567890123e-4", "18446744073709551615e-1",
        "18446744073709551616e-1", "1844674407370955161.5e1", "18446744073709551616",
        "900719925474099312345678901234567890123456789e-29",
    ]

    @Test func readsIntegersAsFoundationReadsThem() throws {
        for literal in Self.integerSpellings {
            let body = #"{"KeyId":"k","NumberOfBytes":\#(literal)}"#
            let ours = Result { () throws(AWSJSONDecodingError) in
                try GenerateDataKeyRequest(awsJSON: AWSJSONReader(try! JSONParser.parse(Array(body.utf8))))
                    .numberOfBytes
            }
            let theirs = Result {
                try AWSJSON.decoder().decode(GenerateDataKeyRequest.self, from: Data(body.utf8)).numberOfBytes
            }
            .mapError { AWSJSONDecodingError($0 as! DecodingError)! }
            #expect(ours == theirs, "\(literal)")
        }
    }

    /// Foundation's reading of the cases that surprise: the first of canonically equivalent member names wins (and
    /// the others are not read), integers may be spelled with a fraction or exponent, and a number that is no `Int`
    /// is an error of the whole body.
    @Test(arguments: [
        (#"{"KeyId":"a","\u212AeyId":5}"#, Result<String?, AWSJSONDecodingError>.success("a")),
        (#"{"\u212AeyId":"b","KeyId":"a"}"#, .success("b")),
        (#"{"KeyId":"a","NumberOfBytes":1e2}"#, .success("a")),
        (#"{"KeyId":"a","NumberOfBytes":1.5}"#, .failure(AWSJSONDecodingError(.unreadable, path: []))),
        (#"{"KeyId":"a","EncryptionContext":{"é":"1","e\u0301":2}}"#, .success("a")),
        (
            #"{"KeyId":"a","EncryptionContext":{"é":1,"e\u0301":"2"}}"#,
            .failure(AWSJSONDecodingError(.wrongType, path: ["EncryptionContext", "é"]))
        ),
        (
            #"{"KeyId":"a","GrantTokens":["x",null]}"#,
            .failure(AWSJSONDecodingError(.missing, path: ["GrantTokens", "Index 1"]))
        ),
        (#"{"KeyId":null}"#, .failure(AWSJSONDecodingError(.missing, path: ["KeyId"]))),
        (#"[]"#, .failure(AWSJSONDecodingError(.wrongType, path: []))),
    ])
    func readsTheEdgesAsFoundationDoes(body: String, expected: Result<String?, AWSJSONDecodingError>) throws {
        let value = try JSONParser.parse(Array(body.utf8))
        let ours = Result { () throws(AWSJSONDecodingError) in
            try GenerateDataKeyRequest(awsJSON: AWSJSONReader(value)).keyId as String?
        }
        #expect(ours == expected)
        let theirs = Result {
            try AWSJSON.decoder().decode(GenerateDataKeyRequest.self, from: Data(body.utf8)).keyId as String?
        }
        .mapError { AWSJSONDecodingError($0 as! DecodingError)! }
        #expect(theirs == expected)
    }
}
