internal import EncryptionSDK
internal import KMS

/// Turns what the ESDK, a keyring, KMS or STS threw into a ``SealedEventsError``.
///
/// The rule (stated in `docs/sealed-events-format.md` §6):
///
/// - **access denied**: KMS `AccessDeniedException` (directly, or among the KMS keyring's underlying errors), STS
///   `AccessDenied` (the reader role cannot be assumed), and a keyring that holds no key able to decrypt any of
///   the message's encrypted data keys. From the consumer's side all three mean "you do not hold this key", and
///   the remedy is the same access request. A raw AES keyring cannot tell a foreign key from a damaged wrapped
///   key (AES-GCM fails alike), so a damaged wrapped data key under a raw keyring also reads as access denied.
/// - **authentication failed** (corrupted): the ESDK's `authenticationFailure` (a changed body, header, tag or
///   signature) and KMS `InvalidCiphertextException` / `IncorrectKeyException` (a changed wrapped key).
/// - **binding mismatch**: the ESDK's `invalidEncryptionContext`.
/// - **subject erased**: the keystore has no branch key (or version) a subject-keyed event names
///   (``KMS/BranchKeyStoreError`` `notFound`): the subject's keys were destroyed.
/// - **key service failure**: every other KMS/STS error (throttling, disabled or deleted key), network failures.
enum KeyServiceErrors {
    static func map(_ error: any Error, keyArn: String, eventType: String) -> SealedEventsError {
        func denied(_ refusal: String) -> SealedEventsError {
            SealedEventsError(
                .accessDenied,
                "access to key \(keyArn) was refused",
                accessDenied: .init(keyArn: keyArn, eventType: eventType, refusal: refusal)
            )
        }
        switch error {
        case let error as SealedEventsError:
            return error
        case let error as BranchKeyStoreError where error.code == .notFound:
            return .subjectErased(error)
        case let error as KMSError:
            switch error.code {
            case .accessDeniedException: return denied("KMS AccessDeniedException")
            case .invalidCiphertextException, .incorrectKeyException:
                return SealedEventsError(.authenticationFailed, "KMS could not decrypt the data key (\(error.code))")
            default:
                return SealedEventsError(.keyServiceFailure, "KMS: \(error)")
            }
        case let error as STSError:
            if error.code == .accessDenied { return denied("STS AccessDenied: the reader role cannot be assumed") }
            return SealedEventsError(.keyServiceFailure, "STS: \(error)")
        case let error as ClientError:
            return SealedEventsError(.keyServiceFailure, "the key service could not be reached: \(error)")
        case let error as EncryptionSDKError:
            switch error.code {
            case .authenticationFailure:
                return SealedEventsError(.authenticationFailed, "the sealed payload failed authentication")
            case .noDecryptableDataKey:
                // The hierarchical keyring hands over the keystore's errors: a destroyed branch key is an erasure.
                if let missing = error.underlyingErrors.lazy.compactMap({ $0 as? BranchKeyStoreError })
                    .first(where: { $0.code == .notFound })
                {
                    return .subjectErased(missing)
                }
                // The KMS keyring hands over the KMS errors of every key it tried.
                let codes = error.underlyingErrors.compactMap { ($0 as? KMSError)?.code }
                if codes.contains(.accessDeniedException) { return denied("KMS AccessDeniedException") }
                if codes.contains(.invalidCiphertextException) || codes.contains(.incorrectKeyException) {
                    return SealedEventsError(.authenticationFailed, "KMS could not decrypt the data key")
                }
                if !error.underlyingErrors.isEmpty {
                    return SealedEventsError(.keyServiceFailure, error.reason)
                }
                return denied("no key in the keyring decrypts the event's data key")
            case .invalidEncryptionContext:
                return SealedEventsError.binding("the encryption context does not match the ESDK message")
            case .malformedMessage, .tooManyEncryptedDataKeys:
                return SealedEventsError.malformed("the sealed ESDK message is malformed (\(error.code))")
            case .commitmentPolicyViolation:
                return SealedEventsError(.unsupportedAlgorithmSuite, "the ESDK message's suite is not allowed")
            case .invalidArgument:
                return .invalidArgument(error.reason)
            default:
                return SealedEventsError(.keyServiceFailure, "the keyring failed: \(error)")
            }
        default:
            return SealedEventsError(.keyServiceFailure, "the keyring failed: \(type(of: error))")
        }
    }
}

extension SealedEventsError {
    /// The subject whose branch key is missing was erased; names the branch key (a pseudonym), never the subject.
    static func subjectErased(_ missing: BranchKeyStoreError) -> SealedEventsError {
        SealedEventsError(.subjectErased, "the data subject's key no longer exists: \(missing.reason)")
    }
}
