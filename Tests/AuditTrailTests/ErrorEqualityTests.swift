import AuditTrail
import Testing

/// Audit errors compare and hash by their code alone and describe themselves as `code: message` (`CodedError`).
struct ErrorEqualityTests {
    @Test func auditErrors() {
        let error = AuditError(.unsealFailed, "The key does not open.")
        #expect(error == AuditError(.unsealFailed, "other words"))
        #expect(error != AuditError(.fileSystem, "The key does not open."))
        #expect(error.hashValue == AuditError(.unsealFailed, "").hashValue)
        #expect(error.description == "UnsealFailed: The key does not open.")
    }
}
