import KMS
import Testing

/// Client errors compare and hash by their code alone and describe themselves as `code: reason` (`CodedError`).
struct ErrorEqualityTests {
    @Test func clientErrors() {
        let error = ClientError(.timeout, "no answer in 30 s")
        #expect(error == ClientError(.timeout, "other words"))
        #expect(error != ClientError(.connectionFailed, "no answer in 30 s"))
        #expect(error.hashValue == ClientError(.timeout, "").hashValue)
        #expect(error.description == "timeout: no answer in 30 s")
    }
}
