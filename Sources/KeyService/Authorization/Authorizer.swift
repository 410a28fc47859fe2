public import Foundation

/// Decides whether a principal may perform a KMS action on a resource.
///
/// The key service asks before every operation, after resolving the key the request names and before looking at the
/// key's state; a verdict other than ``Verdict/allow`` becomes an `AccessDeniedException`. The policy engine of the
/// identities-and-access issue implements this seam; ``AdministratorAuthorizer`` is the interim one.
public protocol Authorizer: Sendable {
    /// The verdict for one request.
    func authorize(_ request: AuthorizationRequest) async -> Verdict

    /// Checks a key policy before the key service stores it: `nil` when this engine can evaluate it, else a sentence
    /// naming the problem and where it is in the text (line and column), for `MalformedPolicyDocumentException`.
    func problem(inKeyPolicy policy: String) -> String?
}

extension Authorizer {
    /// Engines that do not read key policies accept any (the key service still requires a JSON object).
    public func problem(inKeyPolicy policy: String) -> String? { nil }
}

/// The outcome of an authorization check: checks return verdicts, they do not throw.
public enum Verdict: Sendable, Hashable {
    /// A statement allows the request and none denies it.
    case allow
    /// A statement denies the request; `reason` names it (for logs and audit, not for the caller).
    case explicitDeny(reason: String)
    /// No statement allows the request.
    case implicitDeny
}

/// What an ``Authorizer`` decides on: who asks to do what to which resource, in which context.
public struct AuthorizationRequest: Sendable, Hashable {
    /// The caller's ARN (`arn:aws:iam::ACCOUNT:user/NAME`, an assumed-role session ARN, …).
    public var principal: String
    /// The IAM action, `kms:Encrypt`, `kms:CreateKey`, ….
    public var action: String
    /// The key ARN, the alias ARN for alias operations, or `*` for operations on no resource (`kms:CreateKey`,
    /// `kms:ListKeys`, `kms:ListAliases`, `kms:GenerateRandom`).
    public var resource: String
    /// The condition context.
    public var context: AuthorizationContext

    public init(principal: String, action: String, resource: String, context: AuthorizationContext) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.context = context
    }
}

/// The request context of an authorization check: the values of condition keys such as
/// `kms:EncryptionContext:<k>`, `aws:SourceIp`, `aws:CurrentTime`, `kms:CallerAccount`.
public struct AuthorizationContext: Sendable, Hashable {
    /// The encryption context of a cryptographic operation (for ReEncrypt: of the side being checked).
    public var encryptionContext: [String: String]?
    /// The caller's IP address, when the request came over the network.
    public var sourceIP: String?
    /// The time of the request.
    public var currentTime: Date
    /// The account of the caller, when known.
    public var callerAccount: String?
    /// The key policy of the resource key, for engines that evaluate it; `nil` for operations on no key.
    public var keyPolicy: String?

    public init(
        encryptionContext: [String: String]? = nil,
        sourceIP: String? = nil,
        currentTime: Date,
        callerAccount: String? = nil,
        keyPolicy: String? = nil
    ) {
        self.encryptionContext = encryptionContext
        self.sourceIP = sourceIP
        self.currentTime = currentTime
        self.callerAccount = callerAccount
        self.keyPolicy = keyPolicy
    }
}

/// The interim authorizer: the administrator may do everything, every other principal nothing.
public struct AdministratorAuthorizer: Authorizer {
    /// The administrators' ARNs.
    public let administrators: Set<String>

    public init(administrator: String) { self.administrators = [administrator] }

    public init(administrators: Set<String>) { self.administrators = administrators }

    public func authorize(_ request: AuthorizationRequest) async -> Verdict {
        administrators.contains(request.principal) ? .allow : .implicitDeny
    }
}

/// Who is calling: the authenticated principal and where the request came from.
public struct Caller: Sendable, Hashable {
    /// The principal's ARN, from the verified SigV4 signature.
    public var principal: String
    public var sourceIP: String?
    /// The principal's account, when known (`kms:CallerAccount`).
    public var account: String?

    public init(principal: String, sourceIP: String? = nil, account: String? = nil) {
        self.principal = principal
        self.sourceIP = sourceIP
        self.account = account
    }
}
