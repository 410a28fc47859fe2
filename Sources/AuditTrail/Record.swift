public import Foundation
import SealedSupport

/// One audit record, shaped like an AWS CloudTrail record (event version 1.08).
///
/// One record is written per KMS call (allowed or denied, signature failures included), STS call, IAM and catalog
/// change, access-request transition, key state change and rejected publish.
///
/// - Important: ``requestParameters`` and ``responseElements`` must never carry plaintext, data keys, ciphertext
///   blobs, secret access keys, session tokens or any other key material. Keeping them out is the caller's job;
///   ``kmsRequestParameters(_:)`` builds KMS parameters from an allowlist so KMS calls cannot leak them.
///
/// The JSON form (``jsonValue``, `Codable`) uses CloudTrail's member names; members whose value is `nil` are left
/// out. ``eventTime`` has whole seconds (as CloudTrail's): the initialisers drop the fraction; and the free-form
/// members (``requestParameters``, ``responseElements``, ``additionalEventData``) are kept in their canonical form
/// (``CanonicalJSON/normalized(_:)``: members sorted, numbers spelled canonically). So a record reads back equal to the
/// one written, and two records are equal, and hash alike, exactly when their canonical bytes are the same.
public struct Record: Sendable, Hashable {
    /// `1.08`.
    public var eventVersion: String
    public var eventTime: Date {
        didSet { eventTime = Self.wholeSeconds(eventTime) }
    }
    public var eventSource: EventSource
    /// The API operation, e.g. `Decrypt`, `AssumeRole`, `ApproveAccessRequest`.
    public var eventName: String
    public var awsRegion: String
    public var userIdentity: UserIdentity
    public var sourceIPAddress: String?
    public var userAgent: String?
    /// The request's parameters: key id, encryption context, algorithm… never plaintext or key material. Kept in
    /// canonical form.
    public var requestParameters: JSONValue? {
        didSet { requestParameters = requestParameters.map(CanonicalJSON.normalized) }
    }
    /// The response's non-secret elements (e.g. the key id of a new key); never plaintext or key material. Kept in
    /// canonical form.
    public var responseElements: JSONValue? {
        didSet { responseElements = responseElements.map(CanonicalJSON.normalized) }
    }
    /// The AWS error code of a failed call (`AccessDeniedException`, `InvalidSignatureException`…); `nil` on success.
    public var errorCode: String?
    public var errorMessage: String?
    public var requestID: String
    /// A unique id of this record (a lower-case UUID by default).
    public var eventID: String
    public var readOnly: Bool
    public var resources: [Resource]
    public var eventType: EventType
    public var recipientAccountId: String
    /// CloudTrail's `additionalEventData`: what the record says beyond the call itself. The server writes
    /// `{"auditPhase": "Intent"}` here on the record it makes *before* a change (see ``Record/intent``). Kept in
    /// canonical form.
    public var additionalEventData: JSONValue? {
        didSet { additionalEventData = additionalEventData.map(CanonicalJSON.normalized) }
    }

    /// Creates a record.
    ///
    /// - Parameters:
    ///   - eventTime: when the call happened; the fraction of a second is dropped.
    ///   - requestParameters: never plaintext or key material (see the type's discussion).
    public init(
        eventTime: Date,
        eventSource: EventSource,
        eventName: String,
        awsRegion: String,
        userIdentity: UserIdentity,
        sourceIPAddress: String? = nil,
        userAgent: String? = nil,
        requestParameters: JSONValue? = nil,
        responseElements: JSONValue? = nil,
        errorCode: String? = nil,
        errorMessage: String? = nil,
        requestID: String,
        eventID: String = UUID().uuidString.lowercased(),
        readOnly: Bool,
        resources: [Resource] = [],
        eventType: EventType = .awsApiCall,
        recipientAccountId: String,
        eventVersion: String = "1.08",
        additionalEventData: JSONValue? = nil
    ) {
        self.eventVersion = eventVersion
        self.eventTime = Self.wholeSeconds(eventTime)
        self.eventSource = eventSource
        self.eventName = eventName
        self.awsRegion = awsRegion
        self.userIdentity = userIdentity
        self.sourceIPAddress = sourceIPAddress
        self.userAgent = userAgent
        self.requestParameters = requestParameters.map(CanonicalJSON.normalized)
        self.responseElements = responseElements.map(CanonicalJSON.normalized)
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.requestID = requestID
        self.eventID = eventID
        self.readOnly = readOnly
        self.resources = resources
        self.eventType = eventType
        self.recipientAccountId = recipientAccountId
        self.additionalEventData = additionalEventData.map(CanonicalJSON.normalized)
    }

    /// The `additionalEventData` of an intent record.
    public static let intentMarker: JSONValue = .object(["auditPhase": .string("Intent")])

    /// The record written, and durable, *before* a change is made: the same call with no outcome, marked
    /// `"additionalEventData": {"auditPhase": "Intent"}`. The change is made only once it is written; the call's
    /// ordinary record (its outcome, with the same `requestID`) follows. An intent without an outcome is a change
    /// whose result is unknown (the process stopped, or the outcome could not be written).
    public var intent: Record {
        var intent = self
        intent.responseElements = nil
        intent.errorCode = nil
        intent.errorMessage = nil
        intent.eventID = Random.uuid().uuidString.lowercased()
        intent.additionalEventData = Self.intentMarker
        return intent
    }

    /// Whether this is an intent record (see ``intent``).
    public var isIntent: Bool { additionalEventData?["auditPhase"]?.stringValue == "Intent" }

    static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.down))
    }
}

/// The AWS service (or our own API) a record is about.
public struct EventSource: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let kms = EventSource(rawValue: "kms.amazonaws.com")
    public static let sts = EventSource(rawValue: "sts.amazonaws.com")
    public static let iam = EventSource(rawValue: "iam.amazonaws.com")
    /// DynamoDB (the branch keystore's tables).
    public static let dynamoDB = EventSource(rawValue: "dynamodb.amazonaws.com")
    /// The event catalog (domains, event types, classification).
    public static let catalog = EventSource(rawValue: "catalog.sealed.local")
    /// Access requests and their approvals.
    public static let access = EventSource(rawValue: "access.sealed.local")
    /// The event bus (rejected publishes).
    public static let bus = EventSource(rawValue: "bus.sealed.local")
}

/// CloudTrail's `eventType`.
public struct EventType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A call of an API by a principal.
    public static let awsApiCall = EventType(rawValue: "AwsApiCall")
    /// Something the service did on its own (scheduled rotation, deletion of a key whose window passed).
    public static let awsServiceEvent = EventType(rawValue: "AwsServiceEvent")
}

/// Who made the call (CloudTrail's `userIdentity`).
public struct UserIdentity: Sendable, Hashable {
    /// CloudTrail's `userIdentity.type`.
    public struct IdentityType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let iamUser = IdentityType(rawValue: "IAMUser")
        public static let assumedRole = IdentityType(rawValue: "AssumedRole")
        /// The caller could not be identified (bad signature, unknown access key).
        public static let unknown = IdentityType(rawValue: "Unknown")
        /// The service itself (records of `AwsServiceEvent`s).
        public static let awsService = IdentityType(rawValue: "AWSService")
    }

    public var type: IdentityType
    public var principalId: String?
    public var arn: String?
    public var accountId: String?
    /// The access key id the request was signed with (never the secret).
    public var accessKeyId: String?
    public var userName: String?
    /// For role sessions: the role and the session name.
    public var sessionContext: SessionContext?

    public init(
        type: IdentityType,
        principalId: String? = nil,
        arn: String? = nil,
        accountId: String? = nil,
        accessKeyId: String? = nil,
        userName: String? = nil,
        sessionContext: SessionContext? = nil
    ) {
        self.type = type
        self.principalId = principalId
        self.arn = arn
        self.accountId = accountId
        self.accessKeyId = accessKeyId
        self.userName = userName
        self.sessionContext = sessionContext
    }

    /// An IAM user: `arn:aws:iam::ACCOUNT:user/NAME`.
    public static func iamUser(
        name: String,
        accountId: String,
        principalId: String? = nil,
        accessKeyId: String? = nil
    ) -> UserIdentity {
        UserIdentity(
            type: .iamUser,
            principalId: principalId,
            arn: "arn:aws:iam::\(accountId):user/\(name)",
            accountId: accountId,
            accessKeyId: accessKeyId,
            userName: name
        )
    }

    /// A role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, issued by `arn:aws:iam::ACCOUNT:role/ROLE`.
    public static func assumedRole(
        roleName: String,
        sessionName: String,
        accountId: String,
        roleId: String? = nil,
        accessKeyId: String? = nil
    ) -> UserIdentity {
        UserIdentity(
            type: .assumedRole,
            principalId: roleId.map { "\($0):\(sessionName)" },
            arn: "arn:aws:sts::\(accountId):assumed-role/\(roleName)/\(sessionName)",
            accountId: accountId,
            accessKeyId: accessKeyId,
            sessionContext: SessionContext(
                sessionIssuer: SessionIssuer(
                    type: "Role",
                    principalId: roleId,
                    arn: "arn:aws:iam::\(accountId):role/\(roleName)",
                    accountId: accountId,
                    userName: roleName
                ),
                sessionName: sessionName
            )
        )
    }

    /// An unidentified caller, with the access key id it claimed, if any.
    public static func unknown(accessKeyId: String? = nil, accountId: String? = nil) -> UserIdentity {
        UserIdentity(type: .unknown, accountId: accountId, accessKeyId: accessKeyId)
    }
}

/// CloudTrail's `userIdentity.sessionContext`, plus the session name (CloudTrail has it only inside the ARN).
public struct SessionContext: Sendable, Hashable {
    public var sessionIssuer: SessionIssuer?
    public var sessionName: String?

    public init(sessionIssuer: SessionIssuer?, sessionName: String?) {
        self.sessionIssuer = sessionIssuer
        self.sessionName = sessionName
    }
}

/// The role that issued a session (CloudTrail's `sessionContext.sessionIssuer`).
public struct SessionIssuer: Sendable, Hashable {
    /// `Role`.
    public var type: String
    public var principalId: String?
    public var arn: String
    public var accountId: String?
    /// The role's name.
    public var userName: String?

    public init(type: String = "Role", principalId: String? = nil, arn: String, accountId: String?, userName: String?) {
        self.type = type
        self.principalId = principalId
        self.arn = arn
        self.accountId = accountId
        self.userName = userName
    }
}

/// A resource a record is about (CloudTrail's `resources[]`).
public struct Resource: Sendable, Hashable {
    public var arn: String
    /// `AWS::KMS::Key`, `AWS::IAM::Role`…
    public var type: String
    public var accountId: String?

    public init(arn: String, type: String, accountId: String? = nil) {
        self.arn = arn
        self.type = type
        self.accountId = accountId
    }

    /// The CloudTrail type of KMS keys.
    public static let kmsKeyType = "AWS::KMS::Key"

    /// A KMS key, by ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`); the account is taken from the ARN.
    public static func kmsKey(arn: String) -> Resource {
        Resource(arn: arn, type: kmsKeyType, accountId: accountField(of: arn))
    }

    /// The fifth colon-separated field of an ARN, when it has one (a byte scan: this runs for every KMS record).
    static func accountField(of arn: String) -> String? {
        let utf8 = arn.utf8
        var colons = 0
        var start = utf8.startIndex
        for index in utf8.indices where utf8[index] == UInt8(ascii: ":") {
            colons += 1
            if colons == 4 {
                start = utf8.index(after: index)
            } else if colons == 5 {
                return String(Substring(utf8[start..<index]))
            }
        }
        return colons == 4 ? String(Substring(utf8[start...])) : nil
    }
}
