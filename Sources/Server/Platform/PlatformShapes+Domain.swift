import AccessControl
import Catalog
import EventBus
import WireShapes

// The `/v1` answers made from the domain's values.

extension TeamOutput {
    init(_ team: Team) {
        self.init(
            teamName: team.name,
            arn: team.arn,
            createDate: team.creationDate,
            policies: team.policies.keys.sorted()
        )
    }
}

extension UserOutput {
    init(_ user: User) {
        self.init(userName: user.name, arn: user.arn, teams: user.teams, createDate: user.creationDate)
    }
}

extension CreatedUserOutput {
    init(user: User, key: AccessKey) {
        self.init(
            userName: user.name,
            arn: user.arn,
            teams: user.teams,
            accessKeyId: key.id,
            secretAccessKey: key.secretAccessKey
        )
    }
}

extension AccessKeyOutput {
    init(_ key: AccessKey.Metadata) {
        self.init(accessKeyId: key.id, status: key.status.rawValue, createDate: key.creationDate)
    }
}

extension NewAccessKeyOutput {
    init(_ key: AccessKey) {
        self.init(
            accessKeyId: key.id,
            secretAccessKey: key.secretAccessKey,
            status: key.status.rawValue,
            userArn: key.principalARN
        )
    }
}

extension RoleOutput {
    init(_ role: Role) {
        self.init(
            roleName: role.name,
            arn: role.arn,
            description: role.roleDescription,
            assumeRolePolicyDocument: role.trustPolicy,
            policies: role.policies,
            maxSessionDuration: role.maxSessionDuration,
            createDate: role.creationDate
        )
    }
}

extension DomainOutput {
    init(_ domain: Domain) {
        self.init(domain: domain.name, owner: domain.owner, keyArn: domain.keyARN, createDate: domain.creationDate)
    }
}

extension EventTypeOutput {
    init(_ type: Catalog.EventType, keyARN: String?) {
        self.init(
            eventType: type.name,
            domain: type.domain,
            classification: type.classification.rawValue,
            regulations: type.regulations,
            sensitiveFields: type.sensitiveFields,
            scope: type.scope,
            subjectField: type.subjectField,
            algorithmSuite: type.algorithmSuite,
            approvalsRequired: type.approvalsRequired,
            readerRoleArn: type.readerRoleARN,
            keyArn: keyARN,
            createDate: type.creationDate
        )
    }
}

extension ReviewOutput {
    init(_ review: AccessRequest.Review) {
        self.init(reviewer: review.reviewer, comment: review.comment, date: review.date)
    }
}

extension AccessRequestOutput {
    init(_ request: AccessRequest) {
        self.init(
            requestId: request.id,
            eventType: request.eventType,
            requester: request.requester,
            justification: request.justification,
            durationSeconds: request.durationSeconds,
            status: request.status.rawValue,
            approvalsRequired: request.approvalsRequired,
            approvals: request.approvals.map(ReviewOutput.init),
            denial: request.denial.map(ReviewOutput.init),
            closing: request.closing.map(ReviewOutput.init),
            createDate: request.creationDate,
            approvalDate: request.approvalDate,
            expirationDate: request.expirationDate,
            pendingExpirationDate: request.status == .pending ? request.pendingExpirationDate : nil
        )
    }
}

extension GrantOutput {
    init(_ grant: AccessGrant) {
        self.init(
            eventType: grant.eventType,
            principal: grant.principal,
            requestId: grant.requestID,
            approvedBy: grant.approvedBy,
            approvalDate: grant.approvalDate,
            expirationDate: grant.expirationDate
        )
    }
}

extension TopicOutput {
    init(_ info: TopicInfo) {
        self.init(
            name: info.name,
            retentionSeconds: info.configuration.retentionSeconds,
            retentionBytes: info.configuration.retentionBytes,
            eventCount: info.eventCount,
            firstOffset: info.firstOffset,
            lastOffset: info.lastOffset,
            bytes: info.bytes
        )
    }
}
