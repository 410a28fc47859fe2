public import AccessControl
public import Catalog
import Foundation
import KMS
public import KeyService
public import Logging
public import ServiceLifecycle

/// Ends approved access grants whose duration has passed: every `interval`, the access workflow removes each such
/// requester from its reader role's trust policy and marks the request `expired`.
///
/// The trust policy's own `DateLessThan` condition already refuses `AssumeRole` from the expiry instant on; this
/// sweep makes the state and the matrix say so, and audits the transition.
public struct ExpiryService: Service {
    let access: AccessRequests
    let interval: Duration
    let logger: Logger

    public init(access: AccessRequests, interval: Duration = .seconds(30), logger: Logger) {
        self.access = access
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        for request in try await access.expireDue() {
                            logger.info(
                                "access grant expired",
                                metadata: ["request": "\(request.id)", "eventType": "\(request.eventType)"]
                            )
                        }
                    } catch {
                        logger.error("expiring access grants failed", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}

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
            CreateAliasRequest(aliasName: "alias/sealed/\(domain)", targetKeyId: metadata.keyId),
            caller: caller
        )
        return arn
    }
}
