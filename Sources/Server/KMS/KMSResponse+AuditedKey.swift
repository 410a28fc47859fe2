import WireShapes

/// A KMS response as the audit record sees it: the ARN of the key the operation used, when the response names one.
///
/// Read from the typed response the handler already holds, so recording the key costs nothing per request.
protocol AuditedKMSResponse {
    /// The key's ARN, or `nil` when the response names no key (or names it by something other than its ARN).
    var auditedKeyARN: String? { get }
}

extension AuditedKMSResponse {
    var auditedKeyARN: String? { nil }

    /// `keyId` when it is an ARN: the responses that name a key name it by its ARN.
    static func arn(_ keyId: String?) -> String? {
        guard let keyId, keyId.utf8.starts(with: "arn:".utf8) else { return nil }
        return keyId
    }
}

extension EncryptResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension DecryptResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension ReEncryptResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension GenerateDataKeyResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension GenerateDataKeyWithoutPlaintextResponse: AuditedKMSResponse {
    var auditedKeyARN: String? { Self.arn(keyId) }
}
extension KeyIdResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension GetKeyRotationStatusResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension ScheduleKeyDeletionResponse: AuditedKMSResponse { var auditedKeyARN: String? { Self.arn(keyId) } }
extension CreateKeyResponse: AuditedKMSResponse { var auditedKeyARN: String? { keyMetadata?.arn } }
extension DescribeKeyResponse: AuditedKMSResponse { var auditedKeyARN: String? { keyMetadata?.arn } }

extension EmptyResponse: AuditedKMSResponse {}
extension ListKeysResponse: AuditedKMSResponse {}
extension ListAliasesResponse: AuditedKMSResponse {}
extension ListResourceTagsResponse: AuditedKMSResponse {}
extension GetKeyPolicyResponse: AuditedKMSResponse {}
extension GenerateRandomResponse: AuditedKMSResponse {}
extension ListKeyRotationsResponse: AuditedKMSResponse {}
