import Foundation
import SealedEvents
import SealedSupport
import WireShapes

/// The KMS JSON 1.1 shapes of the hot operations, read by the byte-level coder.
///
/// Input: a byte choosing the shape, then a JSON body. A body the strict parser accepts (as the server parses every
/// body first) is read by the byte-level coder and by Foundation's `JSONDecoder` alike: the same shape or both
/// refuse. A shape read writes back to JSON that reads back to the same shape.
enum KMSShapeTargets {
    static let decode: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        var reader = FuzzReader(input)
        let choice = reader.byte()
        let body = [UInt8](reader.rest())
        guard let value = try? JSONParser.parse(body, options: JSONValue.parseOptions) else { return }
        switch choice % 10 {
        case 0: check(EncryptRequest.self, body, value)
        case 1: check(EncryptResponse.self, body, value)
        case 2: check(DecryptRequest.self, body, value)
        case 3: check(DecryptResponse.self, body, value)
        case 4: check(ReEncryptRequest.self, body, value)
        case 5: check(ReEncryptResponse.self, body, value)
        case 6: check(GenerateDataKeyRequest.self, body, value)
        case 7: check(GenerateDataKeyResponse.self, body, value)
        case 8: check(GenerateDataKeyWithoutPlaintextRequest.self, body, value)
        default: check(GenerateDataKeyWithoutPlaintextResponse.self, body, value)
        }
    }

    static func check<Shape: AWSJSONDecodable & AWSJSONEncodable & Decodable & Hashable>(
        _ type: Shape.Type,
        _ body: [UInt8],
        _ value: JSONValue
    ) {
        let ours = try? Shape(awsJSON: AWSJSONReader(value))
        let foundation = try? AWSJSON.decoder().decode(Shape.self, from: Data(body))
        FuzzCheck.require(
            ours == foundation,
            "\(Shape.self): the byte-level coder \(ours == nil ? "refuses" : "reads") what JSONDecoder "
                + "\(foundation == nil ? "refuses" : "reads")\(ours != nil && foundation != nil ? " differently" : "")"
        )
        guard let ours else { return }
        let written = ours.awsJSON()
        guard let reread = try? JSONParser.parse(written, options: JSONValue.parseOptions),
            let again = try? Shape(awsJSON: AWSJSONReader(reread))
        else {
            FuzzCheck.fail("\(Shape.self): what the coder wrote does not read back")
        }
        FuzzCheck.require(again == ours, "\(Shape.self): written and read back, the shape changed")
    }
}
