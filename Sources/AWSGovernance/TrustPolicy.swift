public import Foundation
import Crypto
package import SealedSupport

/// A reader role's trust policy as the platform edits it in AWS: read, changed, written back
/// (`iam:GetRole` then `iam:UpdateAssumeRolePolicy`).
///
/// The platform's statements are its **grants**: one per principal, `Sid` `SealedGrant` and 16 hex digits of the
/// principal's hash, allowing `sts:AssumeRole`, with `DateLessThan aws:CurrentTime` at the grant's end when it has
/// one. Grants name base identities, users and roles, as access requests do: a role's grant serves every session of
/// the role. Every other statement is **foreign** (an administrator's): kept as written, in its place, never edited,
/// never dropped.
public struct TrustPolicy: Sendable, Hashable {
    /// The statements the platform did not write, as written.
    package private(set) var foreignStatements: [JSONValue]
    /// Each granted principal and the end of its grant (`nil`: until revoked).
    public private(set) var grants: [String: Date?]

    /// How many statements the platform did not write.
    public var foreignStatementCount: Int { foreignStatements.count }

    /// The `Sid` prefix of the platform's statements.
    public static let grantPrefix = "SealedGrant"
    /// The `Sid` of the statement a policy with nothing else holds: IAM refuses a trust policy without statements, so
    /// an empty one is written as one `Deny` of `sts:AssumeRole` to everyone, dropped again when read.
    public static let nobodySid = "SealedNobody"

    /// A policy with no statement: a new reader role's (nobody may assume it yet).
    public init() {
        foreignStatements = []
        grants = [:]
    }

    /// Reads a trust policy.
    ///
    /// - Throws: ``AWSDocumentError`` when it is not a policy document (a JSON object whose `Statement` is an object
    ///   or an array of objects), or when a statement marked as the platform's is not one it writes.
    public init(parsing text: String) throws(AWSDocumentError) {
        self.init()
        for statement in try Self.statements(of: text) where !Self.isNobody(statement) {
            guard let sid = statement["Sid"]?.stringValue, sid.hasPrefix(Self.grantPrefix) else {
                foreignStatements.append(statement)
                continue
            }
            let (principal, end) = try Self.grant(in: statement)
            guard Self.sid(for: principal) == sid else {
                throw AWSDocumentError("the statement \(sid) is marked as the platform's but names another principal")
            }
            grants[principal] = end
        }
    }

    /// The statements of `text` not marked as the platform's, and no grant: where a policy whose platform statements
    /// cannot be trusted (``init(parsing:)`` refused them) is rebuilt from.
    ///
    /// - Throws: ``AWSDocumentError`` when `text` is not a policy document.
    public init(keepingForeignStatementsOf text: String) throws(AWSDocumentError) {
        self.init()
        foreignStatements = try Self.statements(of: text).filter {
            !($0["Sid"]?.stringValue?.hasPrefix(Self.grantPrefix) ?? false) && !Self.isNobody($0)
        }
    }

    /// Lets `principal` assume the role until `end` (or until revoked), replacing its previous grant.
    ///
    /// The end is kept in whole seconds (rounded down), as the document states it, so a grant reads back equal.
    public mutating func grant(_ principal: String, until end: Date?) { grants[principal] = Self.wholeSeconds(end) }

    /// A grant's end as a trust policy holds it: whole seconds, rounded down (never later than asked).
    public static func wholeSeconds(_ end: Date?) -> Date? {
        end.map { Date(timeIntervalSince1970: $0.timeIntervalSince1970.rounded(.down)) }
    }

    /// Ends `principal`'s grant; foreign statements naming it are left alone.
    public mutating func revoke(_ principal: String) { grants[principal] = nil }

    /// The policy as JSON: `Version`, then the foreign statements in their order, then the grants by principal.
    public var document: String {
        var statements = foreignStatements + grants.keys.sorted().map { Self.statement(for: $0, until: grants[$0]!) }
        if statements.isEmpty { statements = [Self.nobody] }
        let document: JSONValue = ["Version": "2012-10-17", "Statement": .array(statements)]
        return String(decoding: document.serialized(), as: UTF8.self)
    }

    /// The statements of a policy document, each an object.
    static func statements(of text: String) throws(AWSDocumentError) -> [JSONValue] {
        guard let document = try? JSONParser.parse(Array(text.utf8)), case .object(let members) = document else {
            throw AWSDocumentError("the trust policy is not a JSON object")
        }
        let statements: [JSONValue]
        switch members["Statement"] {
        case .array(let list)?: statements = list
        case .object?: statements = [members["Statement"]!]
        case nil: statements = []
        default: throw AWSDocumentError("the trust policy's Statement is neither an object nor an array")
        }
        for statement in statements {
            guard case .object = statement else { throw AWSDocumentError("a trust policy statement is not an object") }
        }
        return statements
    }

    /// The statement of a policy that lets nobody assume the role.
    static let nobody: JSONValue = [
        "Sid": .string(nobodySid), "Effect": "Deny", "Principal": ["AWS": "*"], "Action": "sts:AssumeRole",
    ]

    /// Whether `statement` is exactly ``nobody`` (a statement that only shares its `Sid` is foreign).
    static func isNobody(_ statement: JSONValue) -> Bool { statement == nobody }

    /// The `Sid` of a principal's grant.
    public static func sid(for principal: String) -> String {
        grantPrefix + Hex.encode(Array(SHA256.hash(data: Array(principal.utf8)).prefix(8)), uppercase: true)
    }

    static func statement(for principal: String, until end: Date?) -> JSONValue {
        var statement: JSONObject = [
            "Sid": .string(sid(for: principal)), "Effect": "Allow", "Principal": ["AWS": .string(principal)],
            "Action": "sts:AssumeRole",
        ]
        if let end { statement["Condition"] = ["DateLessThan": ["aws:CurrentTime": .string(ISO8601.format(end))]] }
        return .object(statement)
    }

    /// The principal and end of a statement the platform wrote.
    static func grant(in statement: JSONValue) throws(AWSDocumentError) -> (String, Date?) {
        let sid = statement["Sid"]?.stringValue ?? ""
        guard statement["Effect"]?.stringValue == "Allow", statement["Action"]?.stringValue == "sts:AssumeRole",
            let named = statement["Principal"]?["AWS"]?.stringValue
        else { throw AWSDocumentError("the statement \(sid) is marked as the platform's but is not a grant") }
        let principal = named
        var end: Date?
        if let text = statement["Condition"]?["DateLessThan"]?["aws:CurrentTime"]?.stringValue {
            guard let date = ISO8601.parse(text) else {
                throw AWSDocumentError("the statement \(sid) has an end that is not an ISO 8601 time")
            }
            end = date
        }
        return (principal, end)
    }
}

/// A document read from AWS that the platform cannot use.
public struct AWSDocumentError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
