package import Foundation

/// A condition key, resolved when the policy is parsed so evaluation does not compare names.
///
/// Key names are case-insensitive, as in IAM. For `kms:EncryptionContext:<k>` the `<k>` part is case-insensitive too:
/// IAM folds condition key names, which is why the KMS Developer Guide tells authors who need a case-sensitive key
/// name to add a `kms:EncryptionContextKeys` condition (the values of that key are compared as the operator says).
package enum ConditionKey: Sendable, Hashable {
    case encryptionContext(String)
    case encryptionContextKeys
    case principalArn
    case principalAccount
    case currentTime
    case epochTime
    case sourceIP
    case callerAccount
    /// Any other key, lower-cased; looked up in ``RequestContext/additionalValues``.
    case other(String)

    package init(_ name: String) {
        let lower = name.lowercased()
        let ecPrefix = "kms:encryptioncontext:"
        if lower.hasPrefix(ecPrefix) {
            self = .encryptionContext(String(name.dropFirst(ecPrefix.count)))
            return
        }
        switch lower {
        case "kms:encryptioncontextkeys": self = .encryptionContextKeys
        case "aws:principalarn": self = .principalArn
        case "aws:principalaccount": self = .principalAccount
        case "aws:currenttime": self = .currentTime
        case "aws:epochtime": self = .epochTime
        case "aws:sourceip": self = .sourceIP
        case "kms:calleraccount": self = .callerAccount
        default: self = .other(lower)
        }
    }
}

/// One value of a condition key in a request.
package enum ContextValue {
    case string(String)
    case date(Date)

    var string: String {
        switch self {
        case .string(let s): s
        case .date(let d): PolicyDate.format(d)
        }
    }
}

/// The values of a condition key in a request: one, or a set.
package enum ContextValues {
    case single(ContextValue)
    case multiple([String])

    var isEmpty: Bool {
        if case .multiple(let values) = self { return values.isEmpty }
        return false
    }

    func contains(where predicate: (ContextValue) -> Bool) -> Bool {
        switch self {
        case .single(let v): predicate(v)
        case .multiple(let values): values.contains { predicate(.string($0)) }
        }
    }

    func allSatisfy(_ predicate: (ContextValue) -> Bool) -> Bool {
        switch self {
        case .single(let v): predicate(v)
        case .multiple(let values): values.allSatisfy { predicate(.string($0)) }
        }
    }
}

extension EvaluationRequest {
    /// The request's values for a condition key; `nil` when the key is absent.
    package func values(for key: ConditionKey) -> ContextValues? {
        switch key {
        case .encryptionContext(let name):
            guard let ec = context.encryptionContext else { return nil }
            if let exact = ec[name] { return .single(.string(exact)) }
            for (k, v) in ec where k.caseInsensitiveCompare(name) == .orderedSame { return .single(.string(v)) }
            return nil
        case .encryptionContextKeys:
            guard let ec = context.encryptionContext, !ec.isEmpty else { return nil }
            return .multiple(Array(ec.keys))
        case .principalArn:
            return .single(.string(principal.principalArn))
        case .principalAccount:
            return .single(.string(principal.account))
        case .currentTime:
            return .single(.date(context.currentTime))
        case .epochTime:
            return .single(.string(String(Int(context.currentTime.timeIntervalSince1970.rounded(.down)))))
        case .sourceIP:
            return context.sourceIP.map { .single(.string($0)) }
        case .callerAccount:
            return .single(.string(context.callerAccount ?? principal.account))
        case .other(let name):
            guard let values = context.additionalValues[name] else { return nil }
            return values.count == 1 ? .single(.string(values[0])) : .multiple(values)
        }
    }
}

/// How a condition compares one request value with the policy's values (the positive form of its operator).
package enum ConditionMatcher: Sendable, Hashable {
    package enum Comparison: Sendable, Hashable {
        case equal, less, lessOrEqual, greater, greaterOrEqual

        func holds<T: Comparable>(_ request: T, _ policy: T) -> Bool {
            switch self {
            case .equal: request == policy
            case .less: request < policy
            case .lessOrEqual: request <= policy
            case .greater: request > policy
            case .greaterOrEqual: request >= policy
            }
        }
    }

    case stringEquals([String])
    /// Policy values already lower-cased.
    case stringEqualsIgnoreCase([String])
    case stringLike([WildcardPattern])
    case numeric(Comparison, [Double])
    case date(Comparison, [Date])
    case bool([Bool])
    case ipAddress([IPAddressRange])

    func matches(_ value: ContextValue) -> Bool {
        switch self {
        case .stringEquals(let values):
            let s = value.string
            return values.contains(s)
        case .stringEqualsIgnoreCase(let values):
            let s = value.string.lowercased()
            return values.contains(s)
        case .stringLike(let patterns):
            let s = value.string
            return patterns.contains { $0.matches(s) }
        case .numeric(let comparison, let values):
            guard let n = Double(value.string) else { return false }
            return values.contains { comparison.holds(n, $0) }
        case .date(let comparison, let values):
            let date: Date
            switch value {
            case .date(let d): date = d
            case .string(let s):
                guard let d = PolicyDate.parse(s) else { return false }
                date = d
            }
            return values.contains { comparison.holds(date, $0) }
        case .bool(let values):
            switch value.string.lowercased() {
            case "true": return values.contains(true)
            case "false": return values.contains(false)
            default: return false
            }
        case .ipAddress(let ranges):
            guard let address = IPAddress(value.string) else { return false }
            return ranges.contains { $0.contains(address) }
        }
    }
}

/// One compiled condition: an operator with its qualifiers, a key, and the policy's values for it.
package struct Condition: Sendable, Hashable {
    package enum SetQualifier: Sendable, Hashable { case none, forAnyValue, forAllValues }
    package enum Test: Sendable, Hashable {
        case compare(ConditionMatcher, negated: Bool)
        /// `Null`: `true` requires the key to be absent, `false` present.
        case null(Bool)
    }

    package let operatorName: String
    package let key: ConditionKey
    package let qualifier: SetQualifier
    package let ifExists: Bool
    package let test: Test
    package let position: SourcePosition

    /// Evaluates the condition: the policy's values are ORed, per AWS's IAM User Guide ("Creating a condition with
    /// multiple keys or values"), and missing keys follow "Condition operators" and "Single-valued vs. multivalued
    /// context keys" there.
    package func holds(for request: EvaluationRequest) -> Bool {
        let found = request.values(for: key)
        switch test {
        case .null(let expectAbsent):
            let absent = found.map(\.isEmpty) ?? true
            return absent == expectAbsent
        case .compare(let matcher, let negated):
            switch qualifier {
            case .none:
                // Missing key: false, except negated operators (StringNotEquals, NotIpAddress, …) which are true,
                // and …IfExists which is true.
                guard let found, !found.isEmpty else { return ifExists || negated }
                let any = found.contains(where: matcher.matches)
                return negated ? !any : any
            case .forAnyValue:
                // No values: nothing can match, so false (true with …IfExists).
                guard let found, !found.isEmpty else { return ifExists }
                return negated ? found.contains { !matcher.matches($0) } : found.contains(where: matcher.matches)
            case .forAllValues:
                // Every one of no values matches: true, which is why ForAllValues needs a Null check beside it.
                guard let found, !found.isEmpty else { return true }
                return negated ? found.allSatisfy { !matcher.matches($0) } : found.allSatisfy(matcher.matches)
            }
        }
    }
}
