// SealedSupport: the package-only helpers every module shares — one strict JSON core, base64, hex,
// percent-encoding, UTC time, `Duration` conversions, random ids, durable atomic writes and `CodedError`.
// Foundation and Synchronization only; everything here is `package`, never part of a product's API.
