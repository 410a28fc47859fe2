/// An error that is a stable code and a sentence: the shape of every module's error type.
///
/// Conforming gives what each of them spelled out by hand: two errors are equal when their codes are (the sentence is
/// for people and may change), and they hash by their code.
///
/// Declare the conformance in an extension (`extension AuditError: CodedError {}`): a public error type keeps its
/// public `Equatable` and `Hashable` conformances, now implemented here, and its module need not import this one
/// publicly. The type declares its own `description` (`"\(code): \(message)"`): a member of a package-only module
/// is invisible to a client that cannot import the module once member imports are checked
/// (`MemberImportVisibility`, the Swift 7 default), whereas `==` and `hash(into:)` are reached through `Equatable`
/// and `Hashable`.
package protocol CodedError: Error, Hashable {
    /// The type of the code: an open set of stable identifiers.
    associatedtype Code: Hashable
    /// What went wrong; the only part that takes part in equality.
    var code: Code { get }
}

extension CodedError {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
