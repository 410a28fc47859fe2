import Foundation

/// Checks a parsed JSON tree against the IAM policy grammar and compiles it.
///
/// Reference: AWS IAM User Guide, "IAM JSON policy elements reference" and "Grammar of the IAM JSON policy language".
struct PolicyGrammar {
    let kind: PolicyKind

    private func fail(
        _ code: PolicyError.Code,
        _ reason: String,
        at position: SourcePosition,
        _ path: String
    ) -> PolicyError {
        PolicyError(code: code, reason: reason, position: position, path: path)
    }

    private func members(_ node: JSONNode, _ path: String, _ what: String) throws(PolicyError) -> [JSONNode.Member] {
        guard case .object(let members) = node.kind else {
            throw fail(.invalidType, "\(what) must be an object, not \(node.typeName)", at: node.position, path)
        }
        return members
    }

    private func string(_ node: JSONNode, _ path: String, _ what: String) throws(PolicyError) -> String {
        guard case .string(let s) = node.kind else {
            throw fail(.invalidType, "\(what) must be a string, not \(node.typeName)", at: node.position, path)
        }
        return s
    }

    /// A string or a non-empty array of strings.
    private func stringList(
        _ node: JSONNode,
        _ path: String,
        _ what: String
    ) throws(PolicyError) -> [(String, SourcePosition, String)] {
        switch node.kind {
        case .string(let s):
            return [(s, node.position, path)]
        case .array(let elements):
            guard !elements.isEmpty else {
                throw fail(.invalidValue, "\(what) must not be an empty list", at: node.position, path)
            }
            var result: [(String, SourcePosition, String)] = []
            for (i, element) in elements.enumerated() {
                let elementPath = "\(path)[\(i)]"
                result.append((try string(element, elementPath, what), element.position, elementPath))
            }
            return result
        default:
            throw fail(
                .invalidType,
                "\(what) must be a string or a list of strings, not \(node.typeName)",
                at: node.position,
                path
            )
        }
    }

    // MARK: - Document

    func document(_ root: JSONNode) throws(PolicyError) -> PolicyDocument {
        let top = try members(root, "$", "a policy")
        var version = "2008-10-17"
        var id: String?
        var statementNode: JSONNode?
        for member in top {
            let path = "$." + member.key
            switch member.key {
            case "Version":
                version = try string(member.value, path, "Version")
                guard version == "2012-10-17" || version == "2008-10-17" else {
                    throw fail(
                        .unsupportedVersion,
                        "Version must be \"2012-10-17\" or \"2008-10-17\", not \"\(version)\"",
                        at: member.value.position,
                        path
                    )
                }
            case "Id":
                id = try string(member.value, path, "Id")
            case "Statement":
                statementNode = member.value
            default:
                throw fail(.unknownElement, "unknown policy element \"\(member.key)\"", at: member.keyPosition, path)
            }
        }
        guard let statementNode else {
            throw fail(.missingElement, "a policy needs a Statement element", at: root.position, "$")
        }
        var statements: [Statement] = []
        switch statementNode.kind {
        case .object:
            statements.append(try statement(statementNode, index: 0, path: "$.Statement"))
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                statements.append(try statement(element, index: i, path: "$.Statement[\(i)]"))
            }
        default:
            throw fail(
                .invalidType,
                "Statement must be an object or a list of objects, not \(statementNode.typeName)",
                at: statementNode.position,
                "$.Statement"
            )
        }
        return PolicyDocument(version: version, id: id, statements: statements, kind: kind)
    }

    // MARK: - Statement

    private func statement(_ node: JSONNode, index: Int, path: String) throws(PolicyError) -> Statement {
        let elements = try members(node, path, "a statement")
        var sid: String?
        var effect: Effect?
        var principal: Statement.PrincipalClause?
        var principalMember: JSONNode.Member?
        var actions: Statement.ActionClause?
        var actionMember: JSONNode.Member?
        var resources: Statement.ResourceClause?
        var resourceMember: JSONNode.Member?
        var conditions: [Condition] = []

        for member in elements {
            let memberPath = path + "." + member.key
            switch member.key {
            case "Sid":
                sid = try string(member.value, memberPath, "Sid")
            case "Effect":
                let value = try string(member.value, memberPath, "Effect")
                guard let e = Effect(rawValue: value) else {
                    throw fail(
                        .invalidValue,
                        "Effect must be \"Allow\" or \"Deny\", not \"\(value)\"",
                        at: member.value.position,
                        memberPath
                    )
                }
                effect = e
            case "Principal", "NotPrincipal":
                if kind == .identity {
                    throw fail(
                        .prohibitedElement,
                        "an identity policy may not have \(member.key)",
                        at: member.keyPosition,
                        memberPath
                    )
                }
                if let other = principalMember {
                    throw fail(
                        .conflictingElements,
                        "a statement may not have both \(other.key) and \(member.key)",
                        at: member.keyPosition,
                        memberPath
                    )
                }
                principalMember = member
                let set = try principalSet(member.value, memberPath)
                principal = member.key == "Principal" ? .principal(set) : .notPrincipal(set)
            case "Action", "NotAction":
                if let other = actionMember {
                    throw fail(
                        .conflictingElements,
                        "a statement may not have both \(other.key) and \(member.key)",
                        at: member.keyPosition,
                        memberPath
                    )
                }
                actionMember = member
                let patterns = try actionPatterns(member.value, memberPath, member.key)
                actions = member.key == "Action" ? .action(patterns) : .notAction(patterns)
            case "Resource", "NotResource":
                if kind == .trust {
                    throw fail(
                        .prohibitedElement,
                        "a trust policy may not have \(member.key)",
                        at: member.keyPosition,
                        memberPath
                    )
                }
                if let other = resourceMember {
                    throw fail(
                        .conflictingElements,
                        "a statement may not have both \(other.key) and \(member.key)",
                        at: member.keyPosition,
                        memberPath
                    )
                }
                resourceMember = member
                let patterns = try resourcePatterns(member.value, memberPath, member.key)
                resources = member.key == "Resource" ? .resource(patterns) : .notResource(patterns)
            case "Condition":
                conditions = try conditionBlock(member.value, memberPath)
            default:
                throw fail(
                    .unknownElement,
                    "unknown statement element \"\(member.key)\"",
                    at: member.keyPosition,
                    memberPath
                )
            }
        }

        guard let effect else {
            throw fail(.missingElement, "a statement needs an Effect", at: node.position, path)
        }
        guard let actions else {
            throw fail(.missingElement, "a statement needs an Action or a NotAction", at: node.position, path)
        }
        if kind != .trust, resources == nil {
            throw fail(.missingElement, "a statement needs a Resource or a NotResource", at: node.position, path)
        }
        if kind != .identity, principal == nil {
            throw fail(.missingElement, "a statement needs a Principal or a NotPrincipal", at: node.position, path)
        }
        return Statement(
            sid: sid,
            index: index,
            effect: effect,
            principal: principal,
            actions: actions,
            resources: resources,
            conditions: conditions,
            position: node.position
        )
    }

    private func actionPatterns(
        _ node: JSONNode,
        _ path: String,
        _ what: String
    ) throws(PolicyError) -> [WildcardPattern] {
        var patterns: [WildcardPattern] = []
        for (value, position, valuePath) in try stringList(node, path, what) {
            if value != "*" {
                let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[0].contains(" "),
                    !parts[1].contains(" ")
                else {
                    throw fail(
                        .invalidValue,
                        "an action must be \"*\" or \"service:action\", not \"\(value)\"",
                        at: position,
                        valuePath
                    )
                }
            }
            patterns.append(WildcardPattern(value, caseInsensitive: true))
        }
        return patterns
    }

    private func resourcePatterns(
        _ node: JSONNode,
        _ path: String,
        _ what: String
    ) throws(PolicyError) -> [WildcardPattern] {
        var patterns: [WildcardPattern] = []
        for (value, position, valuePath) in try stringList(node, path, what) {
            guard value == "*" || value.hasPrefix("arn:") else {
                throw fail(
                    .invalidValue,
                    "a resource must be \"*\" or an ARN (\"arn:…\"), not \"\(value)\"",
                    at: position,
                    valuePath
                )
            }
            patterns.append(WildcardPattern(value))
        }
        return patterns
    }

    // MARK: - Principal

    private func principalSet(_ node: JSONNode, _ path: String) throws(PolicyError) -> PrincipalSet {
        if case .string(let s) = node.kind {
            guard s == "*" else {
                throw fail(
                    .invalidPrincipal,
                    "a principal string must be \"*\"; name others as {\"AWS\": …} or {\"Service\": …}",
                    at: node.position,
                    path
                )
            }
            return PrincipalSet(isWildcard: true)
        }
        let entries = try members(node, path, "a principal")
        guard !entries.isEmpty else {
            throw fail(.invalidPrincipal, "a principal must name at least one principal", at: node.position, path)
        }
        var wildcard = false
        var aws: [PrincipalSet.AWSPrincipal] = []
        var services: [String] = []
        var federated: [String] = []
        var canonical: [String] = []
        for entry in entries {
            let entryPath = path + "." + entry.key
            let values = try stringList(entry.value, entryPath, "a principal")
            switch entry.key {
            case "AWS":
                for (value, position, valuePath) in values {
                    if value == "*" {
                        wildcard = true
                    } else if value.count == 12, value.allSatisfy({ $0.isASCII && $0.isNumber }) {
                        aws.append(.init(arn: "arn:aws:iam::\(value):root", rootAccount: value))
                    } else if value.hasPrefix("arn:"), !value.contains("*"), !value.contains("?") {
                        let fields = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
                        guard fields.count == 6, fields[2] == "iam" || fields[2] == "sts", fields[4].count == 12
                        else {
                            throw fail(
                                .invalidPrincipal,
                                "\"\(value)\" is not an IAM or STS principal ARN",
                                at: position,
                                valuePath
                            )
                        }
                        let root = fields[2] == "iam" && fields[5] == "root" ? String(fields[4]) : nil
                        aws.append(.init(arn: value, rootAccount: root))
                    } else {
                        throw fail(
                            .invalidPrincipal,
                            "an AWS principal must be \"*\", a 12-digit account id or an ARN without wildcards, "
                                + "not \"\(value)\"",
                            at: position,
                            valuePath
                        )
                    }
                }
            case "Service":
                services += values.map(\.0)
            case "Federated":
                federated += values.map(\.0)
            case "CanonicalUser":
                canonical += values.map(\.0)
            default:
                throw fail(
                    .invalidPrincipal,
                    "unknown principal type \"\(entry.key)\" (AWS, Service, Federated or CanonicalUser)",
                    at: entry.keyPosition,
                    entryPath
                )
            }
        }
        return PrincipalSet(
            isWildcard: wildcard,
            aws: aws,
            services: services,
            federated: federated,
            canonicalUsers: canonical
        )
    }

    // MARK: - Condition

    private static let operators: [String: (ConditionMatcherKind, negated: Bool)] = [
        "stringequals": (.stringEquals, false),
        "stringnotequals": (.stringEquals, true),
        "stringequalsignorecase": (.stringEqualsIgnoreCase, false),
        "stringnotequalsignorecase": (.stringEqualsIgnoreCase, true),
        "stringlike": (.stringLike, false),
        "stringnotlike": (.stringLike, true),
        "numericequals": (.numeric(.equal), false),
        "numericnotequals": (.numeric(.equal), true),
        "numericlessthan": (.numeric(.less), false),
        "numericlessthanequals": (.numeric(.lessOrEqual), false),
        "numericgreaterthan": (.numeric(.greater), false),
        "numericgreaterthanequals": (.numeric(.greaterOrEqual), false),
        "dateequals": (.date(.equal), false),
        "datenotequals": (.date(.equal), true),
        "datelessthan": (.date(.less), false),
        "datelessthanequals": (.date(.lessOrEqual), false),
        "dategreaterthan": (.date(.greater), false),
        "dategreaterthanequals": (.date(.greaterOrEqual), false),
        "bool": (.bool, false),
        "ipaddress": (.ipAddress, false),
        "notipaddress": (.ipAddress, true),
        "arnequals": (.stringLike, false),
        "arnlike": (.stringLike, false),
        "arnnotequals": (.stringLike, true),
        "arnnotlike": (.stringLike, true),
        "null": (.null, false),
    ]

    private func conditionBlock(_ node: JSONNode, _ path: String) throws(PolicyError) -> [Condition] {
        var conditions: [Condition] = []
        for operatorMember in try members(node, path, "Condition") {
            let operatorPath = path + "." + operatorMember.key
            var name = Substring(operatorMember.key)
            var qualifier = Condition.SetQualifier.none
            if name.lowercased().hasPrefix("forallvalues:") {
                qualifier = .forAllValues
                name = name.dropFirst("ForAllValues:".count)
            } else if name.lowercased().hasPrefix("foranyvalue:") {
                qualifier = .forAnyValue
                name = name.dropFirst("ForAnyValue:".count)
            }
            var lower = name.lowercased()
            var ifExists = false
            if lower.hasSuffix("ifexists"), lower != "null" {
                ifExists = true
                lower.removeLast("ifexists".count)
            }
            guard let (kind, negated) = Self.operators[lower], !(ifExists && kind == .null) else {
                throw fail(
                    .unknownConditionOperator,
                    "unknown condition operator \"\(operatorMember.key)\"",
                    at: operatorMember.keyPosition,
                    operatorPath
                )
            }
            for keyMember in try members(operatorMember.value, operatorPath, "a condition operator's block") {
                let keyPath = operatorPath + "." + keyMember.key
                guard !keyMember.key.isEmpty else {
                    throw fail(.invalidValue, "a condition key must not be empty", at: keyMember.keyPosition, keyPath)
                }
                let key = ConditionKey(keyMember.key)
                if case .encryptionContext(let name) = key, name.isEmpty {
                    throw fail(
                        .invalidValue,
                        "kms:EncryptionContext: needs a context key after the colon",
                        at: keyMember.keyPosition,
                        keyPath
                    )
                }
                let values = try conditionValues(keyMember.value, keyPath)
                let test = try compile(kind, negated: negated, values, keyPath, at: keyMember.keyPosition)
                conditions.append(
                    Condition(
                        operatorName: operatorMember.key,
                        key: key,
                        qualifier: qualifier,
                        ifExists: ifExists,
                        test: test,
                        position: keyMember.keyPosition
                    )
                )
            }
        }
        return conditions
    }

    /// A condition value: a string, number or boolean, or a list of them.
    private func conditionValues(_ node: JSONNode, _ path: String) throws(PolicyError) -> [(String, SourcePosition)] {
        func scalar(_ node: JSONNode, _ path: String) throws(PolicyError) -> String {
            switch node.kind {
            case .string(let s): return s
            case .number(let n): return n
            case .bool(let b): return b ? "true" : "false"
            default:
                throw fail(
                    .invalidType,
                    "a condition value must be a string, number or boolean, not \(node.typeName)",
                    at: node.position,
                    path
                )
            }
        }
        if case .array(let elements) = node.kind {
            var values: [(String, SourcePosition)] = []
            for (i, element) in elements.enumerated() {
                values.append((try scalar(element, "\(path)[\(i)]"), element.position))
            }
            return values
        }
        return [(try scalar(node, path), node.position)]
    }

    private func compile(
        _ kind: ConditionMatcherKind,
        negated: Bool,
        _ values: [(String, SourcePosition)],
        _ path: String,
        at keyPosition: SourcePosition
    ) throws(PolicyError) -> Condition.Test {
        func invalid(_ value: String, _ position: SourcePosition, _ expected: String) -> PolicyError {
            fail(.invalidConditionValue, "\"\(value)\" is not \(expected)", at: position, path)
        }
        switch kind {
        case .stringEquals:
            return .compare(.stringEquals(values.map(\.0)), negated: negated)
        case .stringEqualsIgnoreCase:
            return .compare(.stringEqualsIgnoreCase(values.map { $0.0.lowercased() }), negated: negated)
        case .stringLike:
            return .compare(.stringLike(values.map { WildcardPattern($0.0) }), negated: negated)
        case .numeric(let comparison):
            var numbers: [Double] = []
            for (value, position) in values {
                guard let n = Double(value), n.isFinite else { throw invalid(value, position, "a number") }
                numbers.append(n)
            }
            return .compare(.numeric(comparison, numbers), negated: negated)
        case .date(let comparison):
            var dates: [Date] = []
            for (value, position) in values {
                guard let d = PolicyDate.parse(value) else {
                    throw invalid(value, position, "an ISO 8601 date or epoch seconds")
                }
                dates.append(d)
            }
            return .compare(.date(comparison, dates), negated: negated)
        case .bool:
            var bools: [Bool] = []
            for (value, position) in values {
                switch value.lowercased() {
                case "true": bools.append(true)
                case "false": bools.append(false)
                default: throw invalid(value, position, "true or false")
                }
            }
            return .compare(.bool(bools), negated: negated)
        case .ipAddress:
            var ranges: [IPAddressRange] = []
            for (value, position) in values {
                guard let range = IPAddressRange(value) else {
                    throw invalid(value, position, "an IPv4 or IPv6 address or CIDR block")
                }
                ranges.append(range)
            }
            return .compare(.ipAddress(ranges), negated: negated)
        case .null:
            guard values.count == 1, let value = values.first else {
                throw fail(
                    .invalidConditionValue,
                    "Null takes one value, true or false",
                    at: values.first?.1 ?? keyPosition,
                    path
                )
            }
            switch value.0.lowercased() {
            case "true": return .null(true)
            case "false": return .null(false)
            default: throw invalid(value.0, value.1, "true or false")
            }
        }
    }
}

/// The family of a condition operator, before its values are compiled.
enum ConditionMatcherKind: Hashable {
    case stringEquals, stringEqualsIgnoreCase, stringLike, bool, ipAddress, null
    case numeric(ConditionMatcher.Comparison)
    case date(ConditionMatcher.Comparison)
}
