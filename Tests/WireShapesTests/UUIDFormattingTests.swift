import Foundation
import WireShapes
import Testing

@Suite struct UUIDFormattingTests {
    @Test func lowercasedStringIsFoundationsTextLowercased() {
        var uuids = (0..<1_000).map { _ in UUID() }
        uuids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        uuids.append(
            UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
        )
        for uuid in uuids {
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
        }
        #expect(
            UUID(uuidString: "6F1C0A4E-1111-4222-8333-944445555666")?.lowercasedString
                == "6f1c0a4e-1111-4222-8333-944445555666"
        )
    }
}

@Suite struct RandomUUIDTests {
    @Test func randomUUIDsAreVersionFourWithTheRFCVariantAndDistinct() {
        let uuids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(uuids).count == uuids.count)
        for uuid in uuids {
            let text = uuid.lowercasedString
            let characters = Array(text)
            #expect(characters[14] == "4", "\(text)")
            #expect("89ab".contains(characters[19]), "\(text)")
            #expect(UUID(uuidString: text) == uuid)
        }
    }
}
