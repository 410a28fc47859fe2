import WireShapes

/// Reads condition and projection expressions into ``Condition`` values, resolving placeholders as it goes.
///
/// Grammar (keywords in any case, function names as DynamoDB spells them):
///
/// ```
/// condition  := or
/// or         := and ("OR" and)*
/// and        := not ("AND" not)*
/// not        := "NOT" not | primary
/// primary    := "(" condition ")"
///             | ("attribute_exists" | "attribute_not_exists") "(" path ")"
///             | "begins_with" "(" operand "," operand ")"
///             | operand comparator operand
///             | operand "BETWEEN" operand "AND" operand
/// operand    := path | ":value"
/// path       := name | "#name"
/// ```
///
/// Nested document paths (`a.b`, `a[0]`), `IN`, `size`, `contains` and `attribute_type` are not in the subset: they
/// are refused with a `ValidationException` that says so.
struct ExpressionParser {
    /// DynamoDB's limit on an expression's length.
    static let maximumLength = 4096

    private var tokens: [Token]
    private var position = 0
    private let kind: ExpressionKind

    /// Parses a condition expression.
    ///
    /// - Throws: ``TableError`` `ValidationException` for a syntax error, an unknown function, a nested path, an
    ///   undefined placeholder or an operand of a type the operator does not take.
    static func condition(
        _ text: String,
        _ kind: ExpressionKind,
        _ placeholders: inout Placeholders
    )
        throws(TableError) -> Condition
    {
        var parser = try ExpressionParser(text, kind)
        let condition = try parser.orExpression(&placeholders)
        guard parser.position == parser.tokens.count else { throw parser.syntaxError() }
        return condition
    }

    /// Parses a projection expression: top-level attribute names, comma-separated.
    static func projection(_ text: String, _ placeholders: inout Placeholders) throws(TableError) -> [String] {
        var parser = try ExpressionParser(text, .projection)
        var names = [try parser.path(&placeholders)]
        while parser.take(.comma) { names.append(try parser.path(&placeholders)) }
        guard parser.position == parser.tokens.count else { throw parser.syntaxError() }
        return names
    }

    private init(_ text: String, _ kind: ExpressionKind) throws(TableError) {
        self.kind = kind
        guard !text.allSatisfy(\.isWhitespace) else {
            throw .validation("Invalid \(kind.rawValue): The expression can not be empty;")
        }
        guard text.utf8.count <= Self.maximumLength else {
            throw .validation("Invalid \(kind.rawValue): Expression size has exceeded the maximum allowed size;")
        }
        tokens = try Token.scan(text, kind)
    }

    // MARK: - Grammar

    private mutating func orExpression(_ placeholders: inout Placeholders) throws(TableError) -> Condition {
        var condition = try andExpression(&placeholders)
        while take(.keyword("OR")) { condition = .or(condition, try andExpression(&placeholders)) }
        return condition
    }

    private mutating func andExpression(_ placeholders: inout Placeholders) throws(TableError) -> Condition {
        var condition = try notExpression(&placeholders)
        while take(.keyword("AND")) { condition = .and(condition, try notExpression(&placeholders)) }
        return condition
    }

    private mutating func notExpression(_ placeholders: inout Placeholders) throws(TableError) -> Condition {
        if take(.keyword("NOT")) { return .not(try notExpression(&placeholders)) }
        return try primary(&placeholders)
    }

    private mutating func primary(_ placeholders: inout Placeholders) throws(TableError) -> Condition {
        if take(.open) {
            let condition = try orExpression(&placeholders)
            try expect(.close)
            return condition
        }
        if case .function(let name)? = peek {
            position += 1
            try expect(.open)
            let condition: Condition
            switch name {
            case "attribute_exists": condition = .exists(try path(&placeholders))
            case "attribute_not_exists": condition = .notExists(try path(&placeholders))
            case "begins_with":
                let subject = try operand(&placeholders)
                try expect(.comma)
                let prefix = try operand(&placeholders)
                try requireType(of: prefix, for: "begins_with", allowed: [.string, .binary])
                condition = .beginsWith(subject, prefix)
            default:
                throw .validation("Invalid \(kind.rawValue): Invalid function name; function: \(name)")
            }
            try expect(.close)
            return condition
        }
        let left = try operand(&placeholders)
        if take(.keyword("BETWEEN")) {
            let low = try operand(&placeholders)
            try expect(.keyword("AND"))
            let high = try operand(&placeholders)
            for bound in [left, low, high] {
                try requireType(of: bound, for: "BETWEEN", allowed: [.string, .number, .binary])
            }
            if case .value(let lowValue) = low, case .value(let highValue) = high,
                let lowBytes = lowValue.orderedBytes, let highBytes = highValue.orderedBytes,
                lowBytes.type == highBytes.type, highBytes.bytes.lexicographicallyPrecedes(lowBytes.bytes)
            {
                throw .validation(
                    "Invalid \(kind.rawValue): The BETWEEN operator requires upper bound to be greater than or equal "
                        + "to lower bound"
                )
            }
            return .between(left, low, high)
        }
        guard case .comparator(let comparator)? = peek else { throw syntaxError() }
        position += 1
        let right = try operand(&placeholders)
        if comparator != .equal, comparator != .notEqual {
            for side in [left, right] {
                try requireType(of: side, for: comparator.rawValue, allowed: [.string, .number, .binary])
            }
        }
        return .compare(left, comparator, right)
    }

    private mutating func operand(_ placeholders: inout Placeholders) throws(TableError) -> Condition.Operand {
        if case .value(let reference)? = peek {
            position += 1
            return .value(try placeholders.value(reference, in: kind))
        }
        return .attribute(try path(&placeholders))
    }

    private mutating func path(_ placeholders: inout Placeholders) throws(TableError) -> String {
        let name: String
        switch peek {
        case .name(let plain)?: name = plain
        case .nameReference(let reference)?: name = try placeholders.name(reference, in: kind)
        default: throw syntaxError()
        }
        position += 1
        if peek == .dot || peek == .bracket {
            throw .validation(
                "Invalid \(kind.rawValue): Nested attribute paths (a.b, a[0]) are not supported by this server"
            )
        }
        return name
    }

    /// DynamoDB refuses a constant operand of a type the operator cannot compare.
    private func requireType(
        of operand: Condition.Operand,
        for operation: String,
        allowed: [KeyType]
    )
        throws(TableError)
    {
        guard case .value(let value) = operand, !allowed.contains(where: { $0.rawValue == value.typeName }) else {
            return
        }
        throw .validation(
            "Invalid \(kind.rawValue): Incorrect operand type for operator or function; operator or function: "
                + "\(operation), operand type: \(value.typeName)"
        )
    }

    // MARK: - Tokens

    private var peek: Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func take(_ token: Token) -> Bool {
        guard peek == token else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ token: Token) throws(TableError) {
        guard take(token) else { throw syntaxError() }
    }

    private func syntaxError() -> TableError {
        guard let token = peek else {
            return .validation("Invalid \(kind.rawValue): Syntax error; token: \"<EOF>\", near: end of expression")
        }
        return .validation("Invalid \(kind.rawValue): Syntax error; token: \"\(token.text)\"")
    }
}
