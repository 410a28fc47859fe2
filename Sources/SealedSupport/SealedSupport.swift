// SealedSupport: the package-only helpers every module shares — one strict JSON core, base64, hex, percent-encoding,
// UTC time, `Duration` conversions, random ids, durable atomic writes and `CodedError`.
// Foundation and Synchronization only; everything here is `package`, never part of a product's API (the JSON value
// types excepted: SealedEvents and AuditTrail re-export them).
//
// On hot paths: with Swift 6.3, a `package` declaration's body is not available to other modules, `@inlinable` or
// not (package cross-module optimization needs library evolution), so a generic helper here runs unspecialized in
// the module that calls it — one witness-table call per element. Helpers that callers use per request therefore do
// their byte work in non-generic functions over buffers (see `Hex`), with thin generic forms that find the buffer.
