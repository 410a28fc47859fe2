import AccessControl
import Catalog
import Foundation

// The request and response members of the `/v1` API. PascalCase, as AWS APIs spell them.
// swiftlint:disable identifier_name

struct Empty: Codable {}

struct TeamInput: Decodable { var TeamName: String }
struct MemberInput: Decodable { var UserName: String }
struct PolicyInput: Decodable { var PolicyDocument: String }
struct CommentInput: Decodable { var Comment: String? }

struct CreateUserInput: Decodable {
    var UserName: String
    var Team: String?
}

struct CreateRoleInput: Decodable {
    var RoleName: String
    var AssumeRolePolicyDocument: String
    var Description: String?
    var MaxSessionDuration: Int?
    var Policies: [String: String]?
}

struct CreateDomainInput: Decodable {
    var Domain: String
    var Owner: String
}

/// `POST /v1/catalog/event-types`.
struct EventTypeInput: Decodable {
    var EventType: String
    var Domain: String
    var Classification: String?
    var Regulations: [String]?
    var SensitiveFields: [String]?
    var AlgorithmSuite: String?
    var ApprovalsRequired: Int?
}

struct AccessRequestInput: Decodable {
    var EventType: String
    var Justification: String
    var DurationSeconds: Int?
}

struct TeamOutput: Encodable {
    var TeamName: String
    var Arn: String
    var CreateDate: Date
    var Policies: [String]

    init(_ team: Team) {
        TeamName = team.name
        Arn = team.arn
        CreateDate = team.creationDate
        Policies = team.policies.keys.sorted()
    }
}

struct UserOutput: Encodable {
    var UserName: String
    var Arn: String
    var Teams: [String]
    var CreateDate: Date

    init(_ user: User) {
        UserName = user.name
        Arn = user.arn
        Teams = user.teams
        CreateDate = user.creationDate
    }
}

/// A new user and its first access key: the secret is in this answer and nowhere else.
struct CreatedUserOutput: Encodable {
    var UserName: String
    var Arn: String
    var Teams: [String]
    var AccessKeyId: String
    var SecretAccessKey: String

    init(user: User, key: AccessKey) {
        UserName = user.name
        Arn = user.arn
        Teams = user.teams
        AccessKeyId = key.id
        SecretAccessKey = key.secretAccessKey
    }
}

struct AccessKeyOutput: Encodable {
    var AccessKeyId: String
    var Status: String
    var CreateDate: Date

    init(_ key: AccessKey.Metadata) {
        AccessKeyId = key.id
        Status = key.status.rawValue
        CreateDate = key.creationDate
    }
}

struct NewAccessKeyOutput: Encodable {
    var AccessKeyId: String
    var SecretAccessKey: String
    var Status: String
    var UserArn: String

    init(_ key: AccessKey) {
        AccessKeyId = key.id
        SecretAccessKey = key.secretAccessKey
        Status = key.status.rawValue
        UserArn = key.principalARN
    }
}

struct RoleOutput: Encodable {
    var RoleName: String
    var Arn: String
    var Description: String
    var AssumeRolePolicyDocument: String
    var Policies: [String: String]
    var MaxSessionDuration: Int
    var CreateDate: Date

    init(_ role: Role) {
        RoleName = role.name
        Arn = role.arn
        Description = role.roleDescription
        AssumeRolePolicyDocument = role.trustPolicy
        Policies = role.policies
        MaxSessionDuration = role.maxSessionDuration
        CreateDate = role.creationDate
    }
}

struct DomainOutput: Encodable {
    var Domain: String
    var Owner: String
    var KeyArn: String
    var CreateDate: Date

    init(_ domain: Domain) {
        Domain = domain.name
        Owner = domain.owner
        KeyArn = domain.keyARN
        CreateDate = domain.creationDate
    }
}

struct EventTypeOutput: Encodable {
    var EventType: String
    var Domain: String
    var Classification: String
    var Regulations: [String]
    var SensitiveFields: [String]
    var Scope: String
    var AlgorithmSuite: String
    var ApprovalsRequired: Int
    var ReaderRoleArn: String
    var KeyArn: String?
    var CreateDate: Date

    init(_ type: Catalog.EventType, keyARN: String?) {
        EventType = type.name
        Domain = type.domain
        Classification = type.classification.rawValue
        Regulations = type.regulations
        SensitiveFields = type.sensitiveFields
        Scope = type.scope
        AlgorithmSuite = type.algorithmSuite
        ApprovalsRequired = type.approvalsRequired
        ReaderRoleArn = type.readerRoleARN
        KeyArn = keyARN
        CreateDate = type.creationDate
    }
}

struct ReviewOutput: Encodable {
    var Reviewer: String
    var Comment: String
    var Date: Date

    init(_ review: AccessRequest.Review) {
        Reviewer = review.reviewer
        Comment = review.comment
        Date = review.date
    }
}

struct AccessRequestOutput: Encodable {
    var RequestId: String
    var EventType: String
    var Requester: String
    var Justification: String
    var DurationSeconds: Int?
    var Status: String
    var ApprovalsRequired: Int
    var Approvals: [ReviewOutput]
    var Denial: ReviewOutput?
    var Closing: ReviewOutput?
    var CreateDate: Date
    var ApprovalDate: Date?
    var ExpirationDate: Date?

    init(_ request: AccessRequest) {
        RequestId = request.id
        EventType = request.eventType
        Requester = request.requester
        Justification = request.justification
        DurationSeconds = request.durationSeconds
        Status = request.status.rawValue
        ApprovalsRequired = request.approvalsRequired
        Approvals = request.approvals.map(ReviewOutput.init)
        Denial = request.denial.map(ReviewOutput.init)
        Closing = request.closing.map(ReviewOutput.init)
        CreateDate = request.creationDate
        ApprovalDate = request.approvalDate
        ExpirationDate = request.expirationDate
    }
}

struct GrantOutput: Encodable {
    var EventType: String
    var Principal: String
    var RequestId: String
    var ApprovedBy: [String]
    var ApprovalDate: Date?
    var ExpirationDate: Date?

    init(_ grant: AccessGrant) {
        EventType = grant.eventType
        Principal = grant.principal
        RequestId = grant.requestID
        ApprovedBy = grant.approvedBy
        ApprovalDate = grant.approvalDate
        ExpirationDate = grant.expirationDate
    }
}
