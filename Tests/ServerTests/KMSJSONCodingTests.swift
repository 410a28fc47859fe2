import Foundation
import KMS
import NIOCore
import SealedTesting
import Testing

@testable import Server

/// The KMS route's reading of the hot operations' bodies (one strict parse, the byte-level coder) against the
/// route's Foundation reading (the strict check, then `JSONDecoder`), on seeded random byte mutations of full
/// bodies: the same value, or the same `KMSError` (code and message). The coder's own differential tests, on random
/// shapes and structural mutations, are in WireShapesTests (`AWSJSONCoderTests`).
@Suite struct KMSJSONCodingTests {
    static var bodies: [(any (Decodable & Hashable).Type, String)] {
        [
            (
                EncryptRequest.self,
                #"{"KeyId":"alias/k","Plaintext":"AQID","EncryptionContext":{"a":"b","c":"d"},"GrantTokens":["t"],"#
                    + #""EncryptionAlgorithm":"SYMMETRIC_DEFAULT","DryRun":false}"#
            ),
            (
                DecryptRequest.self,
                #"{"CiphertextBlob":"AQIDBA==","EncryptionContext":{"a":"b"},"GrantTokens":["t","u"],"KeyId":"k","#
                    + #""EncryptionAlgorithm":"SYMMETRIC_DEFAULT","DryRun":true}"#
            ),
            (
                ReEncryptRequest.self,
                #"{"CiphertextBlob":"AQI=","SourceEncryptionContext":{"a":"b"},"SourceKeyId":"s","DestinationKeyId":"d","#
                    + #""DestinationEncryptionContext":{},"SourceEncryptionAlgorithm":"SYMMETRIC_DEFAULT","#
                    + #""DestinationEncryptionAlgorithm":"RSAES_OAEP_SHA_256","GrantTokens":[],"DryRun":false}"#
            ),
            (
                GenerateDataKeyRequest.self,
                #"{"KeyId":"k","EncryptionContext":{"a":"b"},"NumberOfBytes":32,"KeySpec":"AES_256","GrantTokens":["t"],"#
                    + #""DryRun":false}"#
            ),
            (
                GenerateDataKeyWithoutPlaintextRequest.self,
                #"{"KeyId":"k","EncryptionContext":{"a":"b"},"KeySpec":"AES_128","NumberOfBytes":16,"DryRun":false}"#
            ),
        ]
    }

    /// Bytes that keep a mutated body JSON often enough to reach the decoders.
    static let alphabet = Array(#"{}[]":,0123456789.eE-+ ntrufals\AQ="#.utf8) + [0x00, 0x0A, 0xC3, 0xA9]

    @Test func readsMutatedBodiesAsFoundationDoes() throws {
        var generator = SeededGenerator(seed: 0x4B4D_53)
        var decoded = 0
        var refused = 0
        for (type, body) in Self.bodies {
            for _ in 0..<2_000 {
                var bytes = Array(body.utf8)
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes[index] = Self.alphabet.randomElement(using: &generator)!
                    case 1: bytes.insert(Self.alphabet.randomElement(using: &generator)!, at: index)
                    default: if bytes.count > 1 { bytes.remove(at: index) }
                    }
                }
                if try Self.compare(type, bytes) { decoded += 1 } else { refused += 1 }
            }
        }
        #expect(decoded > 500 && refused > 5_000, "decoded \(decoded), refused \(refused)")
    }

    /// An empty body is `{}`; a body nested as deep as the strict parser allows, and one level deeper, in an
    /// unknown member.
    @Test func readsEmptyAndDeepBodiesAsFoundationDoes() throws {
        for (type, _) in Self.bodies { _ = try Self.compare(type, []) }
        for depth in [510, 511, 512, 513] {
            let body =
                #"{"KeyId":"k","X":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                + "}"
            _ = try Self.compare(GenerateDataKeyRequest.self, Array(body.utf8))
        }
    }

    /// Whether both readings decoded `bytes` (to the same value); else both refused it with the same error.
    static func compare<T: Decodable & Hashable>(_ type: T.Type, _ bytes: [UInt8]) throws -> Bool {
        let body = ByteBuffer(bytes: bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        let ours = Result { try KMSRoutes.decode(T.self, from: body, parsed: KMSRoutes.parse(body)) }
        let theirs = Result { () throws -> T in
            _ = try KMSRoutes.parse(body)
            return try KMSRoutes.decodeWithFoundation(T.self, from: body)
        }
        switch (ours, theirs) {
        case (.success(let our), .success(let their)):
            #expect(our == their, "\(text)")
            return true
        case (.failure(let our as KMSError), .failure(let their as KMSError)):
            #expect(our == their, "\(text)")
            return false
        default:
            Issue.record("\(text): \(ours) ≠ \(theirs)")
            return false
        }
    }
}
