internal import WireShapes

/// The errors of the key service, as the AWS KMS error codes and messages they answer with.
///
/// The key service throws ``KMS/KMSError`` itself instead of a parallel domain error: its callers (the `Server`
/// module) answer KMS's wire protocol, whose error vocabulary is exactly these codes, so a second error type would
/// only add a one-to-one mapping. The messages follow the shapes AWS KMS sends; none of them carries key material,
/// plaintext or ciphertext.
extension KMSError {
    /// `NotAuthorizedException`, which KMS answers for the reserved `alias/aws/` prefix.
    static let notAuthorizedCode = KMSError.Code(rawValue: "NotAuthorizedException")

    static func keyNotFound(arn: String) -> KMSError {
        KMSError(code: .notFoundException, message: "Key '\(arn)' does not exist")
    }

    static func aliasNotFound(arn: String) -> KMSError {
        KMSError(code: .notFoundException, message: "Alias '\(arn)' is not found.")
    }

    static func invalidKeyID(_ identifier: String) -> KMSError {
        KMSError(code: .notFoundException, message: "Invalid keyId '\(identifier)'")
    }

    static func keyDisabled(arn: String) -> KMSError {
        KMSError(code: .disabledException, message: "\(arn) is disabled.")
    }

    static func keyPendingDeletion(arn: String) -> KMSError {
        KMSError(code: .kmsInvalidStateException, message: "\(arn) is pending deletion.")
    }

    static func keyNotPendingDeletion(arn: String) -> KMSError {
        KMSError(code: .kmsInvalidStateException, message: "\(arn) is not pending deletion.")
    }

    /// A ciphertext that cannot be opened: malformed, tampered, of an unknown or deleted key, or with a wrong
    /// encryption context. One error with no detail, whatever the cause.
    static var ciphertextRejected: KMSError { KMSError(code: .invalidCiphertextException) }

    static var incorrectKeyForCiphertext: KMSError {
        KMSError(
            code: .incorrectKeyException,
            message: "The key ID in the request does not identify a CMK that can perform this operation."
        )
    }

    static var dryRunSucceeded: KMSError {
        KMSError(
            code: .dryRunOperationException,
            message: "The request would have succeeded, but the DryRun option is set."
        )
    }

    /// AWS's one-error validation message: `1 validation error detected: Value '…' at '…' failed to satisfy
    /// constraint: Member must …`.
    static func validation(value: String, member: String, constraint: String) -> KMSError {
        KMSError(
            code: .validationException,
            message:
                "1 validation error detected: Value '\(value)' at '\(member)' failed to satisfy constraint: Member must \(constraint)"
        )
    }

    static func validation(_ message: String) -> KMSError {
        KMSError(code: .validationException, message: message)
    }

    /// The message shape of KMS's `AccessDeniedException`.
    static func accessDenied(principal: String, action: String, resource: String, explicit: Bool) -> KMSError {
        let why =
            explicit
            ? "with an explicit deny in a resource-based policy"
            : "because no resource-based policy allows the \(action) action"
        return KMSError(
            code: .accessDeniedException,
            message: "User: \(principal) is not authorized to perform: \(action) on resource: \(resource) \(why)"
        )
    }
}
