public import Foundation

/// Who is calling, as policies see it.
///
/// For a role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) ``roleArn`` is the role's ARN, which is what
/// `aws:PrincipalArn` returns and what a `Principal` naming the role matches.
public struct CallerIdentity: Sendable, Hashable {
    /// The caller's ARN: a user, a role session, or an account root.
    public var arn: String
    /// The caller's account.
    public var account: String
    /// For role sessions, the ARN of the role; `nil` otherwise.
    public var roleArn: String?
    /// For AWS service principals (`"Principal": {"Service": …}`), the service name; `nil` otherwise.
    public var service: String?

    /// - Parameters:
    ///   - arn: The caller's ARN.
    ///   - account: The caller's account; by default the account field of `arn`.
    ///   - roleArn: The role of a session; by default derived from an `assumed-role` ARN (without the role's path,
    ///     which a session ARN does not carry; pass it when the role has a path).
    ///   - service: The service name of a service principal.
    public init(arn: String, account: String? = nil, roleArn: String? = nil, service: String? = nil) {
        self.arn = arn
        let fields = Self.arnFields(arn)
        self.account = account ?? (fields.count > 4 ? String(fields[4]) : "")
        if let roleArn {
            self.roleArn = roleArn
        } else if fields.count == 6, fields[2] == "sts", fields[5].hasPrefix("assumed-role/") {
            let parts = fields[5].split(separator: "/")
            self.roleArn = parts.count >= 2 ? "arn:\(fields[1]):iam::\(fields[4]):role/\(parts[1])" : nil
        } else {
            self.roleArn = nil
        }
        self.service = service
    }

    /// The value of `aws:PrincipalArn`: the role for a role session, the caller's ARN otherwise.
    public var principalArn: String { roleArn ?? arn }

    /// The colon-separated fields of an ARN, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`: at most six, the
    /// last keeping any further colons (as `split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)`).
    ///
    /// A byte scan: it runs for every authorized request.
    public static func arnFields(_ arn: String) -> [Substring] {
        var fields: [Substring] = []
        fields.reserveCapacity(6)
        let utf8 = arn.utf8
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex, fields.count < 5 {
            if utf8[index] == UInt8(ascii: ":") {
                fields.append(Substring(utf8[start..<index]))
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        fields.append(Substring(utf8[start...]))
        return fields
    }
}

/// The values of the condition keys of one request.
///
/// The fields mirror the key service's `AuthorizationContext` one to one, so an adapter fills it field by field:
/// `kms:EncryptionContext:<k>` and `kms:EncryptionContextKeys` come from ``encryptionContext``, `aws:SourceIp` from
/// ``sourceIP``, `aws:CurrentTime` and `aws:EpochTime` from ``currentTime``, `kms:CallerAccount` from
/// ``callerAccount`` (else the caller's account). Any other key can be supplied with ``setValues(_:forKey:)``.
public struct RequestContext: Sendable, Hashable {
    /// The encryption context of a cryptographic operation.
    public var encryptionContext: [String: String]?
    /// The caller's IP address.
    public var sourceIP: String?
    /// The time of the request.
    public var currentTime: Date
    /// The caller's account, when it differs from the identity's (normally `nil`).
    public var callerAccount: String?
    /// Further condition keys, lower-cased, each with one or more values.
    public private(set) var additionalValues: [String: [String]] = [:]

    public init(
        encryptionContext: [String: String]? = nil,
        sourceIP: String? = nil,
        currentTime: Date = Date(),
        callerAccount: String? = nil
    ) {
        self.encryptionContext = encryptionContext
        self.sourceIP = sourceIP
        self.currentTime = currentTime
        self.callerAccount = callerAccount
    }

    /// Sets the values of a further condition key (matched case-insensitively, as IAM matches key names).
    public mutating func setValues(_ values: [String], forKey key: String) {
        additionalValues[key.lowercased()] = values
    }
}

/// One request to authorize: who wants to do what to which resource, in which context.
public struct EvaluationRequest: Sendable, Hashable {
    public var principal: CallerIdentity
    /// The action, `service:Operation` (`kms:Decrypt`, `sts:AssumeRole`); matched case-insensitively.
    public var action: String
    /// The resource ARN, or `*` for actions on no resource.
    public var resource: String
    public var context: RequestContext

    public init(principal: CallerIdentity, action: String, resource: String, context: RequestContext = RequestContext())
    {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.context = context
    }
}

/// The network address of the caller on whose behalf the current task runs, for `aws:SourceIp` in the checks of
/// APIs that take only a principal's ARN (``IdentityService/isAllowed(_:_:on:)``, and through it the catalog, the
/// access workflow and the bus). The server binds it around each `/v1` request; outside one it is `nil`, and a
/// condition on `aws:SourceIp` then does not match, as IAM treats a missing key.
public enum CallerAddress {
    @TaskLocal public static var current: String?
}
