// The package's one JSON value type, named here for the audit trail's users as it is by SealedEvents (the same type:
// a file that imports both modules sees one `JSONValue`).
@_exported public import struct SealedSupport.JSONNumber
@_exported public import struct SealedSupport.JSONObject
@_exported public import enum SealedSupport.JSONValue

/// A JSON value: the free-form parts of a ``Record`` (`requestParameters`, `responseElements`,
/// `additionalEventData`); see ``SealedSupport/JSONValue``.
///
/// A record keeps these in their canonical form (``CanonicalJSON/normalized(_:)``), so records compare and hash as
/// their canonical bytes do.
public typealias JSONValue = SealedSupport.JSONValue
/// A JSON number kept as its literal text; see ``SealedSupport/JSONNumber``.
public typealias JSONNumber = SealedSupport.JSONNumber
/// A JSON object whose members keep their order; see ``SealedSupport/JSONObject``.
public typealias JSONObject = SealedSupport.JSONObject
