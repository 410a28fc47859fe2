import Foundation
import SealedSupport
import SealedTesting
import WireShapes

/// Seeded random KMS shapes and hostile mutations of their JSON, for comparing the JSON 1.1 coders.
struct RandomShapes {
    var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < probability }

    mutating func pick<T>(_ values: [T]) -> T { values.randomElement(using: &generator)! }

    /// Pieces that strings are made of: what JSON escapes (`\b`, `\f`, other controls, quote, backslash), what
    /// `.withoutEscapingSlashes` keeps (`/`), what no escape touches (DEL, U+2028, non-BMP), and names that are
    /// canonically equivalent but differ in bytes.
    static let pieces = [
        "a", "Z", "0", "/", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{1}", "\u{1F}", "\u{0}", "\u{7F}", " ",
        "é", "e\u{301}", "\u{2028}", "😀", "\u{212A}", "K", "ключ", "aws:", "=",
    ]

    mutating func string() -> String {
        (0..<Int.random(in: 0...6, using: &generator)).map { _ in pick(Self.pieces) }.joined()
    }

    mutating func optional<T>(_ make: (inout RandomShapes) -> T) -> T? { chance(0.5) ? make(&self) : nil }

    mutating func data() -> Data {
        Data((0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    mutating func map() -> [String: String] {
        Dictionary((0..<Int.random(in: 0...5, using: &generator)).map { _ in (string(), string()) }) { first, _ in first
        }
    }

    mutating func strings() -> [String] { (0..<Int.random(in: 0...3, using: &generator)).map { _ in string() } }

    mutating func int() -> Int {
        pick([0, 1, 32, 1024, -1, Int.max, Int.min, Int.random(in: .min ... .max, using: &generator)])
    }

    mutating func enumeration<E: WireEnumeration>() -> E {
        E(rawValue: chance(0.7) ? pick(["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256", "AES_256", "AES_128"]) : string())
    }

    // MARK: - Mutations

    static func number(_ literal: String) -> JSONValue { .number(JSONNumber(validatedLiteral: literal)) }

    /// Values that trap careless readers: every JSON type, integers in odd spellings and beyond 64 bits, base64
    /// that is not canonical or not base64, `null` in arrays and maps, equivalent map keys.
    static let hostileValues: [JSONValue] = {
        let strings = [
            "", "AQID", "AQ==", "AB==", "AA=A", "====", "A", "AAAA\n", "A A=", "not base64", "SYMMETRIC_DEFAULT",
            "AES_256", "/+/+", "-_-_",
        ]
        let objects: [JSONValue] = [
            [:], ["a": "b"], ["a": 1], ["a": nil], ["é": "1", "e\u{301}": 2], ["é": 1, "e\u{301}": "2"],
            ["b": "1", "a": [nil]], ["x": ["y": "z"]],
        ]
        let arrays: [JSONValue] = [[], ["a"], ["a", 1], ["a", nil], [nil], [["a"]], ["a", "b", true]]
        return [nil, true, false] + AWSJSONCoderTests.integerSpellings.map(number) + strings.map(JSONValue.string)
            + objects + arrays
    }()

    /// `value` with zero to three changes: members removed, set to hostile values, added under equivalent names
    /// (a Kelvin sign for `K`) or unknown names; rarely the whole value replaced by another JSON type.
    mutating func mutate(_ value: JSONValue, memberNames: [String]) -> JSONValue {
        if chance(0.03) { return pick([nil, true, 1, "x", [], ["KeyId"]]) }
        guard case .object(let object) = value else { return value }
        var members = object.members
        for _ in 0..<Int.random(in: 0...3, using: &generator) {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0 where !members.isEmpty:
                members.remove(at: Int.random(in: 0..<members.count, using: &generator))
            case 1, 2:
                let name = chance(0.9) ? pick(memberNames) : string()
                let member = JSONObject.Member(key: name, value: pick(Self.hostileValues))
                if let index = members.firstIndex(where: { $0.key == name && $0.key.utf8.elementsEqual(name.utf8) }) {
                    members[index] = member
                } else {
                    members.insert(member, at: Int.random(in: 0...members.count, using: &generator))
                }
            case 3:
                let name = pick(memberNames).replacingOccurrences(of: "K", with: "\u{212A}")
                let member = JSONObject.Member(key: name, value: pick(Self.hostileValues))
                members.insert(member, at: Int.random(in: 0...members.count, using: &generator))
            default:
                // A hostile value inside a map or array member that is there.
                guard let index = members.indices.randomElement(using: &generator) else { break }
                switch members[index].value {
                case .object(var map):
                    map[pick(["a", "é", "e\u{301}", string()])] = pick(Self.hostileValues)
                    members[index].value = .object(map)
                case .array(var elements):
                    elements.insert(pick(Self.hostileValues), at: Int.random(in: 0...elements.count, using: &generator))
                    members[index].value = .array(elements)
                default: break
                }
            }
        }
        return .object(JSONObject(uncheckedMembers: members))
    }
}

// MARK: - The shapes

extension EncryptRequest: AWSJSONCoderTests.Shape {
    static let memberNames = [
        "KeyId", "Plaintext", "EncryptionContext", "GrantTokens", "EncryptionAlgorithm", "DryRun",
    ]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            keyId: r.string(),
            plaintext: r.data(),
            encryptionContext: r.optional { $0.map() },
            grantTokens: r.optional { $0.strings() },
            encryptionAlgorithm: r.optional { $0.enumeration() },
            dryRun: r.optional { $0.chance(0.5) }
        )
    }
}

extension EncryptResponse: AWSJSONCoderTests.Shape {
    static let memberNames = ["CiphertextBlob", "KeyId", "EncryptionAlgorithm"]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            ciphertextBlob: r.optional { $0.data() },
            keyId: r.optional { $0.string() },
            encryptionAlgorithm: r.optional { $0.enumeration() }
        )
    }
}

extension DecryptRequest: AWSJSONCoderTests.Shape {
    static let memberNames = [
        "CiphertextBlob", "EncryptionContext", "GrantTokens", "KeyId", "EncryptionAlgorithm", "DryRun",
    ]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            ciphertextBlob: r.data(),
            encryptionContext: r.optional { $0.map() },
            grantTokens: r.optional { $0.strings() },
            keyId: r.optional { $0.string() },
            encryptionAlgorithm: r.optional { $0.enumeration() },
            dryRun: r.optional { $0.chance(0.5) }
        )
    }
}

extension DecryptResponse: AWSJSONCoderTests.Shape {
    static let memberNames = ["KeyId", "Plaintext", "EncryptionAlgorithm", "KeyMaterialId"]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            keyId: r.optional { $0.string() },
            plaintext: r.optional { $0.data() },
            encryptionAlgorithm: r.optional { $0.enumeration() },
            keyMaterialId: r.optional { $0.string() }
        )
    }
}

extension ReEncryptRequest: AWSJSONCoderTests.Shape {
    static let memberNames = [
        "CiphertextBlob", "SourceEncryptionContext", "SourceKeyId", "DestinationKeyId", "DestinationEncryptionContext",
        "SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm", "GrantTokens", "DryRun",
    ]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            ciphertextBlob: r.data(),
            sourceEncryptionContext: r.optional { $0.map() },
            sourceKeyId: r.optional { $0.string() },
            destinationKeyId: r.string(),
            destinationEncryptionContext: r.optional { $0.map() },
            sourceEncryptionAlgorithm: r.optional { $0.enumeration() },
            destinationEncryptionAlgorithm: r.optional { $0.enumeration() },
            grantTokens: r.optional { $0.strings() },
            dryRun: r.optional { $0.chance(0.5) }
        )
    }
}

extension ReEncryptResponse: AWSJSONCoderTests.Shape {
    static let memberNames = [
        "CiphertextBlob", "SourceKeyId", "KeyId", "SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm",
    ]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            ciphertextBlob: r.optional { $0.data() },
            sourceKeyId: r.optional { $0.string() },
            keyId: r.optional { $0.string() },
            sourceEncryptionAlgorithm: r.optional { $0.enumeration() },
            destinationEncryptionAlgorithm: r.optional { $0.enumeration() }
        )
    }
}

extension GenerateDataKeyRequest: AWSJSONCoderTests.Shape {
    static let memberNames = ["KeyId", "EncryptionContext", "NumberOfBytes", "KeySpec", "GrantTokens", "DryRun"]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            keyId: r.string(),
            encryptionContext: r.optional { $0.map() },
            numberOfBytes: r.optional { $0.int() },
            keySpec: r.optional { $0.enumeration() },
            grantTokens: r.optional { $0.strings() },
            dryRun: r.optional { $0.chance(0.5) }
        )
    }
}

extension GenerateDataKeyResponse: AWSJSONCoderTests.Shape {
    static let memberNames = ["CiphertextBlob", "Plaintext", "KeyId", "KeyMaterialId"]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            ciphertextBlob: r.optional { $0.data() },
            plaintext: r.optional { $0.data() },
            keyId: r.optional { $0.string() },
            keyMaterialId: r.optional { $0.string() }
        )
    }
}

extension GenerateDataKeyWithoutPlaintextRequest: AWSJSONCoderTests.Shape {
    static let memberNames = ["KeyId", "EncryptionContext", "KeySpec", "NumberOfBytes", "GrantTokens", "DryRun"]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            keyId: r.string(),
            encryptionContext: r.optional { $0.map() },
            keySpec: r.optional { $0.enumeration() },
            numberOfBytes: r.optional { $0.int() },
            grantTokens: r.optional { $0.strings() },
            dryRun: r.optional { $0.chance(0.5) }
        )
    }
}

extension GenerateDataKeyWithoutPlaintextResponse: AWSJSONCoderTests.Shape {
    static let memberNames = ["CiphertextBlob", "KeyId", "KeyMaterialId"]
    static func random(_ r: inout RandomShapes) -> Self {
        Self(
            ciphertextBlob: r.optional { $0.data() },
            keyId: r.optional { $0.string() },
            keyMaterialId: r.optional { $0.string() }
        )
    }
}
