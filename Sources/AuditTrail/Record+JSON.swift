import Foundation
import SealedSupport

extension Record {
    /// The record as CloudTrail JSON (members with a `nil` value left out), in canonical form.
    public var jsonValue: JSONValue {
        .object(JSONObject(uncheckedMembers: members.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }

    /// The record's top-level members, for the canonical encoding: in canonical order (sorted by the UTF-8 bytes of
    /// their keys), so the encoder need not sort them.
    var members: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(19)
        if let additionalEventData { members.append(("additionalEventData", additionalEventData)) }
        members.append(("awsRegion", .string(awsRegion)))
        if let errorCode { members.append(("errorCode", .string(errorCode))) }
        if let errorMessage { members.append(("errorMessage", .string(errorMessage))) }
        members.append(("eventID", .string(eventID)))
        members.append(("eventName", .string(eventName)))
        members.append(("eventSource", .string(eventSource.rawValue)))
        members.append(("eventTime", .string(Self.format(eventTime))))
        members.append(("eventType", .string(eventType.rawValue)))
        members.append(("eventVersion", .string(eventVersion)))
        members.append(("readOnly", .bool(readOnly)))
        members.append(("recipientAccountId", .string(recipientAccountId)))
        members.append(("requestID", .string(requestID)))
        if let requestParameters { members.append(("requestParameters", requestParameters)) }
        if !resources.isEmpty { members.append(("resources", .array(resources.map(\.jsonValue)))) }
        if let responseElements { members.append(("responseElements", responseElements)) }
        if let sourceIPAddress { members.append(("sourceIPAddress", .string(sourceIPAddress))) }
        if let userAgent { members.append(("userAgent", .string(userAgent))) }
        members.append(("userIdentity", userIdentity.jsonValue))
        return members
    }

    /// Reads a record from its JSON form; members it does not know (such as the chain's) are ignored.
    ///
    /// - Throws: ``AuditError`` `malformedRecord` when a required member is missing or has the wrong type.
    public init(jsonValue: JSONValue) throws {
        guard case .object(let object) = jsonValue else { throw Self.malformed("a record is not a JSON object") }
        let time = try Self.string(object, "eventTime")
        guard let eventTime = Self.parse(time) else { throw Self.malformed("eventTime is not an ISO 8601 time") }
        guard case .bool(let readOnly) = object["readOnly"] else { throw Self.malformed("readOnly is missing") }
        guard let identity = object["userIdentity"] else { throw Self.malformed("userIdentity is missing") }
        var resources: [Resource] = []
        if let list = object["resources"] {
            guard case .array(let elements) = list else { throw Self.malformed("resources is not an array") }
            resources = try elements.map(Resource.init(jsonValue:))
        }
        self.init(
            eventTime: eventTime,
            eventSource: EventSource(rawValue: try Self.string(object, "eventSource")),
            eventName: try Self.string(object, "eventName"),
            awsRegion: try Self.string(object, "awsRegion"),
            userIdentity: try UserIdentity(jsonValue: identity),
            sourceIPAddress: try Self.optionalString(object, "sourceIPAddress"),
            userAgent: try Self.optionalString(object, "userAgent"),
            requestParameters: object["requestParameters"].flatMap { $0 == .null ? nil : $0 },
            responseElements: object["responseElements"].flatMap { $0 == .null ? nil : $0 },
            errorCode: try Self.optionalString(object, "errorCode"),
            errorMessage: try Self.optionalString(object, "errorMessage"),
            requestID: try Self.string(object, "requestID"),
            eventID: try Self.string(object, "eventID"),
            readOnly: readOnly,
            resources: resources,
            eventType: EventType(rawValue: try Self.string(object, "eventType")),
            recipientAccountId: try Self.string(object, "recipientAccountId"),
            eventVersion: try Self.string(object, "eventVersion"),
            additionalEventData: object["additionalEventData"].flatMap { $0 == .null ? nil : $0 }
        )
    }

    static func malformed(_ reason: String) -> AuditError {
        AuditError(.malformedRecord, "Malformed record: \(reason).")
    }

    static func string(_ object: JSONObject, _ key: String) throws -> String {
        guard case .string(let value) = object[key] else { throw malformed("\(key) is missing or not a string") }
        return value
    }

    static func optionalString(_ object: JSONObject, _ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw malformed("\(key) is not a string")
        }
    }

    /// CloudTrail's time format: `2026-11-29T10:15:00Z` (UTC, whole seconds).
    static func format(_ date: Date) -> String { ISO8601.format(date) }

    static func parse(_ text: String) -> Date? { ISO8601.parse(text) }
}

extension Record: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(jsonValue: CodableJSON(from: decoder).value)
    }

    public func encode(to encoder: any Encoder) throws {
        try CodableJSON(jsonValue).encode(to: encoder)
    }
}

extension UserIdentity {
    /// In canonical form (members in canonical order).
    var jsonValue: JSONValue {
        var object = JSONObject()
        if let accessKeyId { object["accessKeyId"] = .string(accessKeyId) }
        if let accountId { object["accountId"] = .string(accountId) }
        if let arn { object["arn"] = .string(arn) }
        if let principalId { object["principalId"] = .string(principalId) }
        if let sessionContext { object["sessionContext"] = sessionContext.jsonValue }
        object["type"] = .string(type.rawValue)
        if let userName { object["userName"] = .string(userName) }
        return .object(object)
    }

    init(jsonValue: JSONValue) throws {
        guard case .object(let object) = jsonValue else { throw Record.malformed("userIdentity is not an object") }
        self.init(
            type: IdentityType(rawValue: try Record.string(object, "type")),
            principalId: try Record.optionalString(object, "principalId"),
            arn: try Record.optionalString(object, "arn"),
            accountId: try Record.optionalString(object, "accountId"),
            accessKeyId: try Record.optionalString(object, "accessKeyId"),
            userName: try Record.optionalString(object, "userName"),
            sessionContext: try object["sessionContext"].map(SessionContext.init(jsonValue:))
        )
    }
}

extension SessionContext {
    /// In canonical form (members in canonical order).
    var jsonValue: JSONValue {
        var object = JSONObject()
        if let sessionIssuer {
            var issuer = JSONObject()
            if let accountId = sessionIssuer.accountId { issuer["accountId"] = .string(accountId) }
            issuer["arn"] = .string(sessionIssuer.arn)
            if let principalId = sessionIssuer.principalId { issuer["principalId"] = .string(principalId) }
            issuer["type"] = .string(sessionIssuer.type)
            if let userName = sessionIssuer.userName { issuer["userName"] = .string(userName) }
            object["sessionIssuer"] = .object(issuer)
        }
        if let sessionName { object["sessionName"] = .string(sessionName) }
        return .object(object)
    }

    init(jsonValue: JSONValue) throws {
        guard case .object(let object) = jsonValue else { throw Record.malformed("sessionContext is not an object") }
        var issuer: SessionIssuer?
        if let value = object["sessionIssuer"] {
            guard case .object(let fields) = value else { throw Record.malformed("sessionIssuer is not an object") }
            issuer = SessionIssuer(
                type: try Record.string(fields, "type"),
                principalId: try Record.optionalString(fields, "principalId"),
                arn: try Record.string(fields, "arn"),
                accountId: try Record.optionalString(fields, "accountId"),
                userName: try Record.optionalString(fields, "userName")
            )
        }
        self.init(sessionIssuer: issuer, sessionName: try Record.optionalString(object, "sessionName"))
    }
}

extension Resource {
    /// In canonical form (members in canonical order).
    var jsonValue: JSONValue {
        var object: JSONObject = ["ARN": .string(arn)]
        if let accountId { object["accountId"] = .string(accountId) }
        object["type"] = .string(type)
        return .object(object)
    }

    init(jsonValue: JSONValue) throws {
        guard case .object(let object) = jsonValue else { throw Record.malformed("a resource is not an object") }
        self.init(
            arn: try Record.string(object, "ARN"),
            type: try Record.string(object, "type"),
            accountId: try Record.optionalString(object, "accountId")
        )
    }
}
