public import AWSGovernance
public import Foundation
import KMS

/// `sealed aws check [--fix]`: the account compared with what the platform owns, and restored.
extension AWSAccountGovernor {
    /// What a check found: the differences, and who can really decrypt each event type by the live documents.
    public struct CheckReport: Sendable, Hashable {
        public var differences: [AWSDrift.Difference]
        /// Event type → the principals that can decrypt it now (``AWSGovernance/AWSDrift/effectiveReaders(of:roleARN:live:keyPolicy:at:)``).
        public var readers: [String: [String]]
    }

    /// Reads the reader roles and domain keys and compares them with `readers` (the event types and their grants).
    ///
    /// - Parameter at: The time effective readers are evaluated at (a grant's end is a condition on it).
    public func check(_ readers: [AWSDrift.ExpectedReader], at date: Date = Date()) async throws -> CheckReport {
        var liveReaders: [String: AWSDrift.LiveReader] = [:]
        var roleARNs: [String: String] = [:]
        for reader in readers {
            guard let live = try await liveReader(reader.roleName) else { continue }
            liveReaders[reader.roleName] = live.reader
            roleARNs[reader.roleName] = live.arn
        }
        var keys: [AWSDrift.LiveKey] = []
        for arn in Set(readers.map(\.keyARN)).sorted() { keys.append(try await liveKey(arn)) }
        let differences = AWSDrift.differences(readers: readers, liveReaders: liveReaders, keys: keys, account: account)
        var effective: [String: [String]] = [:]
        for reader in readers {
            guard let live = liveReaders[reader.roleName], let arn = roleARNs[reader.roleName],
                let key = keys.first(where: { $0.arn == reader.keyARN })
            else {
                effective[reader.eventType] = []
                continue
            }
            effective[reader.eventType] = AWSDrift.effectiveReaders(
                of: reader,
                roleARN: arn,
                live: live,
                keyPolicy: key.keyPolicy,
                at: date
            )
        }
        return CheckReport(differences: differences, readers: effective)
    }

    /// Restores what the platform owns: missing roles, reader policies, the grants in trust policies (statements the
    /// platform did not write are kept), and key policies. A disabled key or one scheduled for deletion is reported,
    /// not changed: re-enabling a key someone disabled is a decision for a person.
    ///
    /// - Returns: The differences that remain (those the platform leaves to a person).
    @discardableResult
    public func fix(_ readers: [AWSDrift.ExpectedReader]) async throws -> [AWSDrift.Difference] {
        for reader in readers {
            _ = try await readerRole(eventType: reader.eventType, keyARN: reader.keyARN)
            let name = reader.roleName
            var policy: TrustPolicy
            do {
                policy = try await trustPolicy(of: name)
            } catch is AWSGovernanceError {
                // A forged platform statement: the policy is rebuilt from the foreign statements that parse.
                policy = try await foreignStatementsOnly(name)
            }
            for principal in policy.grants.keys where reader.grants[principal] == nil { policy.revoke(principal) }
            for (principal, end) in reader.grants { policy.grant(principal, until: end) }
            try await iam.updateAssumeRolePolicy(roleName: name, document: policy.document)
        }
        for keyARN in Set(readers.map(\.keyARN)).sorted() {
            try await kms.putKeyPolicy(PutKeyPolicyRequest(keyId: keyARN, policy: AWSPolicies.keyPolicy(account: account)))
        }
        return try await check(readers).differences
    }

    /// A trust policy keeping only the statements not marked as the platform's.
    private func foreignStatementsOnly(_ roleName: String) async throws -> TrustPolicy {
        let document = try await iam.getRole(name: roleName).assumeRolePolicyDocument ?? "{}"
        return try TrustPolicy(keepingForeignStatementsOf: document)
    }

    private func liveReader(_ name: String) async throws -> (arn: String, reader: AWSDrift.LiveReader)? {
        let role: IAMRole
        do {
            role = try await iam.getRole(name: name)
        } catch let error as IAMError where error == IAMError(code: .noSuchEntity) {
            return nil
        }
        var readerPolicy: String?
        do {
            readerPolicy = try await iam.getRolePolicy(roleName: name, policyName: AWSNames.readerPolicyName)
        } catch let error as IAMError where error == IAMError(code: .noSuchEntity) {
            readerPolicy = nil
        }
        return (role.arn, AWSDrift.LiveReader(trustPolicy: role.assumeRolePolicyDocument, readerPolicy: readerPolicy))
    }

    private func liveKey(_ arn: String) async throws -> AWSDrift.LiveKey {
        let metadata = try await kms.describeKey(DescribeKeyRequest(keyId: arn)).keyMetadata
        let policy = try await kms.getKeyPolicy(GetKeyPolicyRequest(keyId: arn)).policy ?? ""
        return AWSDrift.LiveKey(
            arn: arn,
            enabled: metadata?.enabled == true,
            pendingDeletion: metadata?.keyState == .pendingDeletion,
            keyPolicy: policy
        )
    }
}
