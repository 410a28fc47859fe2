/// A data key encrypted by one wrapping key, as stored in the message header.
public struct EncryptedDataKey: Hashable, Sendable {
    /// Who wrapped it: `aws-kms` for AWS KMS, the key namespace for raw keyrings.
    public var providerID: String
    /// Provider-specific information: a KMS key ARN, or a raw keyring's key name (and IV).
    public var providerInfo: [UInt8]
    /// The wrapped data key.
    public var ciphertext: [UInt8]

    public init(providerID: String, providerInfo: [UInt8], ciphertext: [UInt8]) {
        self.providerID = providerID
        self.providerInfo = providerInfo
        self.ciphertext = ciphertext
    }

    /// The serialized entry: `u16 len ‖ provider ID ‖ u16 len ‖ provider info ‖ u16 len ‖ ciphertext`.
    var serialized: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(serializedLength)
        appendSerialized(to: &out)
        return out
    }

    /// The length of ``serialized``.
    var serializedLength: Int { 6 + providerID.utf8.count + providerInfo.count + ciphertext.count }

    /// Appends ``serialized`` without making it first.
    func appendSerialized(to out: inout [UInt8]) {
        out.appendU16Prefixed(providerID.utf8)
        out.appendU16Prefixed(providerInfo)
        out.appendU16Prefixed(ciphertext)
    }

    func validateLengths() throws(EncryptionSDKError) {
        guard providerID.utf8.count <= Int(UInt16.max), providerInfo.count <= Int(UInt16.max),
            ciphertext.count <= Int(UInt16.max)
        else { throw .invalidMaterials("an encrypted data key field is longer than 65535 bytes") }
    }
}
