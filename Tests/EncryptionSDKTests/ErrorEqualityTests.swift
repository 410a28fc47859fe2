import EncryptionSDK
import Testing

/// ESDK errors compare and hash by their code alone and describe themselves as `code: reason` (`CodedError`).
struct ErrorEqualityTests {
    @Test func encryptionSDKErrors() {
        let error = EncryptionSDKError(.invalidArgument, "frame length 0")
        #expect(error == EncryptionSDKError(.invalidArgument, "other words"))
        #expect(error != EncryptionSDKError(.malformedMessage, "frame length 0"))
        #expect(error.hashValue == EncryptionSDKError(.invalidArgument, "").hashValue)
        #expect(error.description == "invalidArgument: frame length 0")
        #expect(
            EncryptionSDKError.authenticationFailure.description
                == "authenticationFailure: the message could not be authenticated"
        )
    }
}
