internal import ArgumentParser
internal import Composition
internal import Foundation

/// `sealed serve --aws …`: the AWS account the platform governs (see docs/aws/README.md).
struct AWSServeOptions: ParsableArguments {
    @Flag(
        name: .customLong("aws"),
        help: """
            Govern an AWS account: domain keys, reader roles and grants live in AWS KMS and IAM (credentials from the \
            standard chain), callers sign a GetCallerIdentity (the CLI's --aws), the embedded KMS, IAM and STS are not \
            served.
            """
    )
    var enabled = false

    @Option(name: .customLong("aws-region"), help: "The AWS region (else AWS_REGION or the profile's).")
    var region: String?

    @Option(
        name: .customLong("aws-endpoint-url"),
        help: "One endpoint for KMS, IAM, STS and S3: an AWS-compatible service such as moto."
    )
    var endpoint: String?

    @Option(name: .customLong("aws-profile"), help: "The profile of ~/.aws/config to use.")
    var profile: String?

    @Option(
        name: .customLong("admin-principal-arn"),
        help: """
            An administrator: a user or role ARN of the account, without a path (repeatable; or \
            SEALED_ADMIN_PRINCIPALS, comma-separated).
            """
    )
    var administrators: [String] = []

    @Option(
        name: .customLong("server-id"),
        help: "The audience callers sign into their GetCallerIdentity (default: one kept in DATA_DIR/aws-server-id)."
    )
    var serverID: String?

    @Option(
        name: .customLong("aws-drift-interval"),
        help: "Seconds between checks of the account against the catalog and grants (60 to 86400, default 3600)."
    )
    var driftInterval: Int = 3600

    @Option(
        name: .customLong("cloudtrail-bucket"),
        help: """
            The S3 bucket CloudTrail delivers the account's logs to: KMS events on the domains' keys are appended to             the audit trail (the platform's identity then needs s3:ListBucket and s3:GetObject on it).
            """
    )
    var cloudTrailBucket: String?

    @Option(name: .customLong("cloudtrail-prefix"), help: "The trail's S3 key prefix (before AWSLogs/), if any.")
    var cloudTrailPrefix: String?

    @Option(
        name: .customLong("cloudtrail-interval"),
        help: "Seconds between looks for new CloudTrail files (10 to 3600, default 300)."
    )
    var cloudTrailInterval: Int = 300

    func validate() throws {
        guard enabled else {
            guard region == nil, endpoint == nil, profile == nil, administrators.isEmpty, serverID == nil,
                cloudTrailBucket == nil, cloudTrailPrefix == nil
            else {
                throw ValidationError(
                    "--aws-region, --aws-endpoint-url, --aws-profile, --admin-principal-arn, --server-id and "
                        + "--cloudtrail-bucket need --aws"
                )
            }
            return
        }
        if let endpoint, URL(string: endpoint)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--aws-endpoint-url must be an http(s) URL")
        }
        guard !allAdministrators.isEmpty else {
            throw ValidationError("--aws needs an administrator: --admin-principal-arn ARN or SEALED_ADMIN_PRINCIPALS")
        }
        guard (60...86_400).contains(driftInterval) else {
            throw ValidationError("--aws-drift-interval must be between 60 and 86400 (seconds)")
        }
        guard (10...3600).contains(cloudTrailInterval) else {
            throw ValidationError("--cloudtrail-interval must be between 10 and 3600 (seconds)")
        }
        guard cloudTrailPrefix == nil || cloudTrailBucket != nil else {
            throw ValidationError("--cloudtrail-prefix needs --cloudtrail-bucket")
        }
    }

    /// The named administrators and those of `SEALED_ADMIN_PRINCIPALS`.
    var allAdministrators: [String] {
        let environment = ProcessInfo.processInfo.environment["SEALED_ADMIN_PRINCIPALS"] ?? ""
        let listed = environment.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return administrators + listed.filter { !$0.isEmpty }
    }

    /// The configuration's AWS mode, or `nil` without `--aws`.
    var access: PlatformConfiguration.AWSAccess? {
        guard enabled else { return nil }
        return PlatformConfiguration.AWSAccess(
            region: region,
            endpoint: endpoint.flatMap(URL.init(string:)),
            profile: profile,
            administrators: allAdministrators,
            serverID: serverID,
            driftCheckInterval: .seconds(driftInterval),
            cloudTrailBucket: cloudTrailBucket,
            cloudTrailPrefix: cloudTrailPrefix,
            cloudTrailInterval: .seconds(cloudTrailInterval)
        )
    }
}
