public import WireShapes

/// A parsed condition expression (`ConditionExpression`, `KeyConditionExpression`), placeholders resolved.
///
/// The subset a branch keystore and an operator need: comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`), `BETWEEN`,
/// the functions `attribute_exists`, `attribute_not_exists` and `begins_with`, joined with `AND`, `OR`, `NOT` and
/// parentheses (precedence `NOT`, then `AND`, then `OR`, as DynamoDB's). Operands are top-level attribute names
/// (plain or `#name`) and `:value` placeholders.
public indirect enum Condition: Sendable, Hashable {
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
    case compare(Operand, Comparator, Operand)
    case between(Operand, Operand, Operand)
    case exists(String)
    case notExists(String)
    case beginsWith(Operand, Operand)

    /// One side of a comparison or a function argument.
    public enum Operand: Sendable, Hashable {
        /// A top-level attribute of the item, by name.
        case attribute(String)
        /// A value from `ExpressionAttributeValues`.
        case value(DynamoDBAttributeValue)

        func value(in item: DynamoDBItem?) -> DynamoDBAttributeValue? {
            switch self {
            case .attribute(let name): item?[name]
            case .value(let value): value
            }
        }
    }

    public enum Comparator: String, Sendable, Hashable {
        case equal = "="
        case notEqual = "<>"
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    /// Whether `item` (`nil`: there is none) satisfies the condition, as DynamoDB evaluates it: a missing attribute
    /// makes a comparison false (`<>` true), ordering compares `S` by UTF-8 bytes, `N` by value and `B` by bytes, and
    /// values of different types are never equal nor ordered.
    public func isSatisfied(by item: DynamoDBItem?) -> Bool {
        switch self {
        case .and(let left, let right): return left.isSatisfied(by: item) && right.isSatisfied(by: item)
        case .or(let left, let right): return left.isSatisfied(by: item) || right.isSatisfied(by: item)
        case .not(let condition): return !condition.isSatisfied(by: item)
        case .exists(let name): return item?[name] != nil
        case .notExists(let name): return item?[name] == nil
        case .compare(let left, let comparator, let right):
            guard let a = left.value(in: item), let b = right.value(in: item) else {
                return comparator == .notEqual
            }
            return Self.compare(a, comparator, b)
        case .between(let operand, let low, let high):
            guard let value = operand.value(in: item), let low = low.value(in: item),
                let high = high.value(in: item)
            else { return false }
            return Self.compare(value, .greaterOrEqual, low) && Self.compare(value, .lessOrEqual, high)
        case .beginsWith(let operand, let prefix):
            guard let value = operand.value(in: item)?.orderedBytes, let prefix = prefix.value(in: item)?.orderedBytes,
                value.type == prefix.type, value.type != .number
            else { return false }
            return value.bytes.starts(with: prefix.bytes)
        }
    }

    static func compare(_ a: DynamoDBAttributeValue, _ comparator: Comparator, _ b: DynamoDBAttributeValue) -> Bool {
        switch comparator {
        case .equal: return a.isSame(as: b)
        case .notEqual: return !a.isSame(as: b)
        default:
            guard let a = a.orderedBytes, let b = b.orderedBytes, a.type == b.type else { return false }
            switch comparator {
            case .less: return a.bytes.lexicographicallyPrecedes(b.bytes)
            case .lessOrEqual: return !b.bytes.lexicographicallyPrecedes(a.bytes)
            case .greater: return b.bytes.lexicographicallyPrecedes(a.bytes)
            default: return !a.bytes.lexicographicallyPrecedes(b.bytes)
            }
        }
    }
}
