/// A place in a policy's JSON text: 1-based line and column, the column counted in Unicode scalars.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1, in Unicode scalars.
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// A JSON value that remembers where it starts in the text, so the policy grammar can point at its problems: a
/// ``SealedSupport/JSONValue`` read by the shared parser with offsets recorded (see `JSONNode.parse(_:)`).
package struct JSONNode: Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        case object([Member])
        case array([JSONNode])
        case string(String)
        /// The number exactly as written.
        case number(String)
        case bool(Bool)
        case null
    }

    /// One member of an object, in text order.
    package struct Member: Sendable, Hashable {
        package var key: String
        package var keyPosition: SourcePosition
        package var value: JSONNode
    }

    package var kind: Kind
    package var position: SourcePosition

    /// A short name of the value's JSON type, for error messages.
    package var typeName: String {
        switch kind {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
