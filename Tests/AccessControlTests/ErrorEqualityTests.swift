import AccessControl
import Testing

/// The module's errors compare and hash by their code alone and describe themselves as before (`CodedError`).
struct ErrorEqualityTests {
    @Test func accessControlErrors() {
        let error = AccessControlError(.noSuchEntity, "No user alice.")
        #expect(error == AccessControlError(.noSuchEntity, "other words"))
        #expect(error != AccessControlError(.accessDenied, "No user alice."))
        #expect(error.hashValue == AccessControlError(.noSuchEntity, "").hashValue)
        #expect(error.description == "NoSuchEntity: No user alice.")
    }

    @Test func policyErrors() {
        let position = SourcePosition(line: 2, column: 5)
        let error = PolicyError(code: .unknownElement, reason: "Efect", position: position, path: "$.Statement[0]")
        #expect(
            error
                == PolicyError(
                    code: .unknownElement,
                    reason: "x",
                    position: SourcePosition(line: 1, column: 1),
                    path: "$"
                )
        )
        #expect(
            error != PolicyError(code: .missingElement, reason: "Efect", position: position, path: "$.Statement[0]")
        )
        #expect(Set([error, PolicyError(code: .unknownElement, reason: "", position: position, path: "")]).count == 1)
        #expect(error.description == "unknownElement at \(position) ($.Statement[0]): Efect")
    }
}
