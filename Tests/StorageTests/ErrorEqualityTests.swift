import Storage
import Testing

/// Storage errors compare and hash by their code alone and describe themselves as `code: message` (`CodedError`).
struct ErrorEqualityTests {
    @Test func storageErrors() {
        let error = StorageError(.wrongRootKey, "Nothing was changed.")
        #expect(error == StorageError(.wrongRootKey, "other words"))
        #expect(error != StorageError(.missingRootKey, "Nothing was changed."))
        #expect(error.hashValue == StorageError(.wrongRootKey, "").hashValue)
        #expect(error.description == "WrongRootKey: Nothing was changed.")
    }

    @Test func auditStoreErrors() {
        let error = AuditStoreError(.writeFailed, "not written")
        #expect(error == AuditStoreError(.writeFailed, "other words"))
        #expect(error != AuditStoreError(.corrupt, "not written"))
        #expect(error.hashValue == AuditStoreError(.writeFailed, "").hashValue)
        #expect(error.description == "AuditWriteFailed: not written")
    }
}
