import AccessControl
public import Composition
import Foundation
public import Hummingbird
import WireShapes

/// `/v1/aws/drift` in AWS mode (`sealed aws check [--fix]`): the governed account compared with the catalog and the
/// grants in force (``Composition/AWSAccountGovernor/check(_:at:)``), and restored (``Composition/AWSAccountGovernor/fix(_:)``).
/// Administrators only (`aws:CheckAccount`, `aws:FixAccount`).
public struct AWSRoutes: RouteMount {
    let account: AWSAccount
    let platform: Platform

    public init(account: AWSAccount, platform: Platform) {
        self.account = account
        self.platform = platform
    }

    public func register(in router: Router<ServerContext>, v1: RouterGroup<AuthenticatedContext>) {
        let account = account
        let platform = platform
        for (route, action, fix) in [
            (PlatformRoute.checkAWSAccount, "aws:CheckAccount", false), (.fixAWSAccount, "aws:FixAccount", true),
        ] {
            v1.on(route) { _, context in
                try Self.authorize(context, action, platform)
                let report = try await account.drift(catalog: platform.catalog, access: platform.access, fix: fix)
                return try PlatformJSON.response(
                    AWSDriftReport(differences: report.differences, readers: report.readers)
                )
            }
        }
    }

    static func authorize(_ context: AuthenticatedContext, _ action: String, _ platform: Platform) throws {
        let arn = "arn:aws:sealed::\(platform.identities.account):aws-account"
        guard platform.identities.isAllowed(context.principal.arn, action, on: arn) else {
            throw AccessControlError(
                .accessDenied,
                "User: \(context.principal.arn) is not authorized to perform: \(action) on resource: \(arn)"
            )
        }
    }
}
