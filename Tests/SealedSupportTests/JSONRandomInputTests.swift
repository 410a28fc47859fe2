import SealedSupport
import SealedTesting
import Testing

/// Truncated, mutated and random input: always a value or a typed error, never a crash, and a failure always
/// points inside the text.
struct JSONRandomInputTests {
    static let documents = [
        #"{"metaData":{"eventId":"01JD3","eventType":"payments.card.captured","domain":"payments"},"data":{"amount":12.50,"card":{"number":"4111 1111 1111 1111"},"tags":["a","b",null,true,false],"n":-1e-7}}"#,
        #"[{"\u00e9\ud83d\udd11":"\"q\" \\ \/ \n\t"},[[[]]],{},"",0,-0.0,1E+300]"#,
        #"{"Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"a:b":"c"}}}]}"#,
    ]

    /// Parses `bytes` with a strict option set; the outcome is a value or a `JSONSyntaxError` inside the text.
    private func check(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let options = JSONParser.Options(maximumDepth: 16, recordsPaths: true, recordsOffsets: true)
        do {
            _ = try JSONParser.parseDocument(bytes, options: options)
            return true
        } catch {
            #expect(error.offset >= 0 && error.offset <= bytes.count, sourceLocation: sourceLocation)
            #expect(error.path?.hasPrefix("$") == true, sourceLocation: sourceLocation)
            return false
        }
    }

    @Test(arguments: documents)
    func everyProperPrefixIsATypedError(document: String) {
        let bytes = Array(document.utf8)
        #expect(check(bytes))
        for end in 0..<bytes.count {
            #expect(!check(Array(bytes[..<end])), "\(end)")
        }
    }

    @Test func mutatedDocumentsGiveAValueOrATypedError() {
        var generator = SeededGenerator(seed: 0x5EA1_ED)
        let alphabet = Array(#"{}[]":,\ "-+.eE0123456789tfnulrsaxu"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xED, 0xFF]
        for _ in 0..<3_000 {
            var bytes = Array(Self.documents.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: index)
                }
                if bytes.isEmpty { break }
            }
            _ = check(bytes)
        }
    }

    @Test func randomBytesGiveAValueOrATypedError() {
        var generator = SeededGenerator(seed: 24)
        let alphabet = Array(#"{}[]":,\ -.e019tfnu"#.utf8)
        for _ in 0..<3_000 {
            let count = Int.random(in: 0...40, using: &generator)
            _ = check((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
            _ = check((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
    }

    @Test func aValueThatParsesSerializesToTextThatParsesToIt() throws {
        var generator = SeededGenerator(seed: 8259)
        var checked = 0
        for _ in 0..<3_000 {
            var bytes = Array(Self.documents.randomElement(using: &generator)!.utf8)
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            bytes[index] = Array(#"0 9e"{}[],"#.utf8).randomElement(using: &generator)!
            guard let value = try? JSONParser.parse(bytes) else { continue }
            #expect(try JSONParser.parse(value.serialized()) == value)
            checked += 1
        }
        #expect(checked > 100)
    }
}
