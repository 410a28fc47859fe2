import AccessControl
public import Catalog
import Foundation
import WireShapes
public import KeyService

/// Creates each domain's KMS key with the key service, as the platform (the administrator), with the alias
/// `alias/sealed/<domain>` and the tags `sealed:domain` and `sealed:owner`.
public struct KeyServiceProvisioner: KeyProvisioner {
    let keyService: KeyService
    let administrator: String

    public init(keyService: KeyService, administrator: String) {
        self.keyService = keyService
        self.administrator = administrator
    }

    public func createKey(forDomain domain: String, owner: String) async throws -> String {
        let caller = Caller(principal: administrator)
        let created = try await keyService.createKey(
            CreateKeyRequest(
                description: "Sealed Events domain \(domain), owned by \(owner)",
                tags: [Tag(key: "sealed:domain", value: domain), Tag(key: "sealed:owner", value: owner)]
            ),
            caller: caller
        )
        guard let metadata = created.keyMetadata, let arn = metadata.arn else {
            throw AccessControlError(.invalidState, "The key service returned no key for \(domain).")
        }
        _ = try await keyService.createAlias(
            CreateAliasRequest(aliasName: Domain.keyAlias(of: domain), targetKeyId: metadata.keyId),
            caller: caller
        )
        return arn
    }
}
