public import AWSGovernance
public import AccessControl
public import Catalog
public import Foundation
public import KMS
import Logging
public import WireShapes

/// The AWS account a platform in AWS mode governs (`sealed serve --aws`): its clients (the `KMS` module's, through
/// the standard credential chain), the platform identity STS names, the administrators, and the server id callers
/// sign into their `GetCallerIdentity` (``WireShapes/SignedCallerIdentity/audienceHeader``).
public struct AWSAccount: Sendable {
    /// The 12-digit account the keys and roles live in: the platform identity's.
    public let account: String
    public let region: String
    /// The platform's own identity, as STS names it.
    public let platformARN: String
    /// The principals allowed everything on the platform.
    public let administrators: [String]
    /// The audience callers sign: this server's id.
    public internal(set) var serverID: String
    /// STS at the configured endpoint: confirms callers' signed requests.
    public let sts: STSClient
    public let governor: AWSAccountGovernor
    /// The bucket CloudTrail delivers to, when one is configured (read with the platform's identity).
    public let cloudTrail: S3LogFiles?

    /// STS, as what confirms callers' signed `GetCallerIdentity`.
    public var callerIdentityResolver: any CallerIdentityResolver { sts }

    /// Resolves the credentials, asks STS who the platform is, and checks with one dry list call per service that
    /// this identity may govern the account.
    ///
    /// - Throws: ``AWSGovernanceError`` naming the permission the identity lacks (or why AWS cannot be reached);
    ///   `ClientError` for a configuration that does not resolve.
    static func connect(
        _ access: PlatformConfiguration.AWSAccess,
        environment: [String: String],
        logger: Logger
    ) async throws -> AWSAccount {
        guard !access.administrators.isEmpty else {
            throw AWSGovernanceError(
                "AWS mode needs at least one administrator: --admin-principal-arn ARN or SEALED_ADMIN_PRINCIPALS"
            )
        }
        let configuration = try AWSConfiguration.resolve(
            environment: environment,
            profile: access.profile,
            region: access.region,
            endpoint: access.endpoint
        )
        let kms = try KMSClient(configuration: configuration, logger: logger)
        let iam = try IAMClient(configuration: configuration, logger: logger)
        let sts = try STSClient(configuration: configuration, logger: logger)
        let identity = try await preflight("sts:GetCallerIdentity", of: nil) {
            try await sts.getCallerIdentity()
        }
        guard let account = identity.account, let arn = identity.arn else {
            throw AWSGovernanceError("STS answered GetCallerIdentity without the platform's account and ARN")
        }
        _ = try await preflight("kms:ListKeys", of: arn) { try await kms.listKeys(ListKeysRequest(limit: 1)) }
        _ = try await preflight("iam:ListRoles", of: arn) { try await iam.listRoles(pathPrefix: AWSNames.path) }
        var cloudTrail: S3LogFiles?
        if let bucket = access.cloudTrailBucket {
            let files = S3LogFiles(client: try S3Client(configuration: configuration, logger: logger), bucket: bucket)
            _ = try await preflight("s3:ListBucket on \(bucket)", of: arn) {
                try await files.client.listObjects(bucket: bucket, maxKeys: 1)
            }
            cloudTrail = files
        }
        let governed = AWSAccount(
            account: account,
            region: configuration.region,
            platformARN: arn,
            administrators: access.administrators,
            serverID: access.serverID ?? "",
            sts: sts,
            governor: AWSAccountGovernor(kms: kms, iam: iam, account: account),
            cloudTrail: cloudTrail
        )
        return governed
    }

    /// Runs one dry call the platform's identity must be allowed.
    static func preflight<T>(_ permission: String, of identity: String?, _ call: () async throws -> T) async throws -> T
    {
        do {
            return try await call()
        } catch {
            throw AWSGovernanceError(
                "the platform's AWS identity\(identity.map { " (\($0))" } ?? "") cannot \(permission), which it needs: "
                    + "\(error). "
                    + "Give it docs/aws/platform-policy.json."
            )
        }
    }

    /// This copy with its server id: the configured one, else the one kept in the data directory (`aws-server-id`,
    /// made on first start), else a new one for this process.
    func with(serverIDIn directory: URL?) throws -> AWSAccount {
        guard serverID.isEmpty else { return self }
        var copy = self
        copy.serverID = try Self.storedServerID(in: directory)
        return copy
    }

    init(
        account: String,
        region: String,
        platformARN: String,
        administrators: [String],
        serverID: String,
        sts: STSClient,
        governor: AWSAccountGovernor,
        cloudTrail: S3LogFiles?
    ) {
        self.account = account
        self.region = region
        self.platformARN = platformARN
        self.administrators = administrators
        self.serverID = serverID
        self.sts = sts
        self.governor = governor
        self.cloudTrail = cloudTrail
    }

    static func storedServerID(in directory: URL?) throws -> String {
        let fresh = "sealed-" + UUID().uuidString.lowercased()
        guard let directory else { return fresh }
        let file = directory.appendingPathComponent("aws-server-id")
        if let stored = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            !stored.isEmpty
        {
            return stored
        }
        try Data((fresh + "\n").utf8).write(to: file, options: .atomic)
        return fresh
    }

    /// `sealed aws check [--fix]`: the account compared with the catalog and the grants in force (restored first
    /// when `fix`), as words, with who can decrypt each event type by the live documents.
    public func drift(
        catalog: EventCatalog,
        access: AccessRequests,
        fix: Bool
    ) async throws
        -> (differences: [String], readers: [String: [String]])
    {
        let readers = try await expectedReaders(catalog: catalog, access: access)
        if fix { try await governor.fix(readers) }
        let report = try await governor.check(readers)
        return (report.differences.map(\.description), report.readers)
    }

    /// What the account should hold, from the catalog and the grants in force: each event type's reader role with
    /// its domain key and grants.
    public func expectedReaders(
        catalog: EventCatalog,
        access: AccessRequests,
        at date: Date = Date()
    ) async throws
        -> [AWSDrift.ExpectedReader]
    {
        var grants: [String: [String: Date?]] = [:]
        // An administrator sees every request.
        for request in try await access.list(status: .approved, by: administrators[0])
        where request.grantsAccess(at: date) {
            grants[request.eventType, default: [:]][request.requester] = .some(request.expirationDate)
        }
        var readers: [AWSDrift.ExpectedReader] = []
        for type in await catalog.eventTypeList() {
            guard let domain = await catalog.domain(named: type.domain) else { continue }
            readers.append(
                AWSDrift.ExpectedReader(eventType: type.name, keyARN: domain.keyARN, grants: grants[type.name] ?? [:])
            )
        }
        return readers
    }
}
