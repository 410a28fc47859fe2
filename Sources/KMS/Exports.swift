// The wire shapes the clients' API speaks (`KMSRequest`s, `KMSError`, `AssumeRoleRequest`, …) are WireShapes':
// `import KMS` brings them along, so SDK users need one import.
@_exported public import WireShapes
