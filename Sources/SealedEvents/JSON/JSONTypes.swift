// The value types are re-exported one by one (not the module): SDK users, and files with MemberImportVisibility,
// see `JSONValue`, `JSONNumber`, `JSONObject` and their members, and nothing else of the support module.
@_exported public import struct SealedSupport.JSONNumber
@_exported public import struct SealedSupport.JSONObject
@_exported public import enum SealedSupport.JSONValue

/// A JSON value (RFC 8259) that keeps what it was given: object members in their order, numbers as written.
///
/// The package's one JSON value type, defined in its support module and named here for SDK users: see
/// ``SealedSupport/JSONValue``.
public typealias JSONValue = SealedSupport.JSONValue
/// A JSON number kept as its literal text; see ``SealedSupport/JSONNumber``.
public typealias JSONNumber = SealedSupport.JSONNumber
/// A JSON object whose members keep their order; see ``SealedSupport/JSONObject``.
public typealias JSONObject = SealedSupport.JSONObject
