import SealedSupport
import Testing

struct CodedErrorTests {
    struct SampleError: CodedError {
        struct Code: Hashable {
            let name: String
        }

        var code: Code
        var message: String
    }

    @Test func equalityAndHashingUseTheCodeAlone() {
        let first = SampleError(code: .init(name: "NoSuchKey"), message: "one")
        let second = SampleError(code: .init(name: "NoSuchKey"), message: "two")
        let other = SampleError(code: .init(name: "AccessDenied"), message: "one")
        #expect(first == second)
        #expect(first != other)
        #expect(first.hashValue == second.hashValue)
        #expect(Set([first, second, other]).count == 2)
        var hasher = Hasher()
        first.hash(into: &hasher)
        var codeHasher = Hasher()
        codeHasher.combine(first.code)
        #expect(hasher.finalize() == codeHasher.finalize())
    }
}
