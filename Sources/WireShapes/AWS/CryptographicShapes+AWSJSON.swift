import Foundation

// The hot operations' shapes in the byte-level JSON 1.1 coder (``AWSJSONReader``, ``AWSJSONWriter``): members read in
// the order of their declaration (the order Foundation's synthesized decoding reads them, so the first error is the
// same), written in the byte order of their names.

extension EncryptRequest: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            keyId: try json.required("KeyId", json.string),
            plaintext: try json.required("Plaintext", json.blob),
            encryptionContext: try json.stringMap("EncryptionContext"),
            grantTokens: try json.strings("GrantTokens"),
            encryptionAlgorithm: try json.enumeration("EncryptionAlgorithm"),
            dryRun: try json.bool("DryRun")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("DryRun", dryRun)
        json.member("EncryptionAlgorithm", encryptionAlgorithm)
        json.member("EncryptionContext", encryptionContext)
        json.member("GrantTokens", grantTokens)
        json.member("KeyId", keyId)
        json.member("Plaintext", plaintext)
    }
}

extension EncryptResponse: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            ciphertextBlob: try json.blob("CiphertextBlob"),
            keyId: try json.string("KeyId"),
            encryptionAlgorithm: try json.enumeration("EncryptionAlgorithm")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("CiphertextBlob", ciphertextBlob)
        json.member("EncryptionAlgorithm", encryptionAlgorithm)
        json.member("KeyId", keyId)
    }
}

extension DecryptRequest: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            ciphertextBlob: try json.required("CiphertextBlob", json.blob),
            encryptionContext: try json.stringMap("EncryptionContext"),
            grantTokens: try json.strings("GrantTokens"),
            keyId: try json.string("KeyId"),
            encryptionAlgorithm: try json.enumeration("EncryptionAlgorithm"),
            dryRun: try json.bool("DryRun")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("CiphertextBlob", ciphertextBlob)
        json.member("DryRun", dryRun)
        json.member("EncryptionAlgorithm", encryptionAlgorithm)
        json.member("EncryptionContext", encryptionContext)
        json.member("GrantTokens", grantTokens)
        json.member("KeyId", keyId)
    }
}

extension DecryptResponse: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            keyId: try json.string("KeyId"),
            plaintext: try json.blob("Plaintext"),
            encryptionAlgorithm: try json.enumeration("EncryptionAlgorithm"),
            keyMaterialId: try json.string("KeyMaterialId")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("EncryptionAlgorithm", encryptionAlgorithm)
        json.member("KeyId", keyId)
        json.member("KeyMaterialId", keyMaterialId)
        json.member("Plaintext", plaintext)
    }
}

extension ReEncryptRequest: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            ciphertextBlob: try json.required("CiphertextBlob", json.blob),
            sourceEncryptionContext: try json.stringMap("SourceEncryptionContext"),
            sourceKeyId: try json.string("SourceKeyId"),
            destinationKeyId: try json.required("DestinationKeyId", json.string),
            destinationEncryptionContext: try json.stringMap("DestinationEncryptionContext"),
            sourceEncryptionAlgorithm: try json.enumeration("SourceEncryptionAlgorithm"),
            destinationEncryptionAlgorithm: try json.enumeration("DestinationEncryptionAlgorithm"),
            grantTokens: try json.strings("GrantTokens"),
            dryRun: try json.bool("DryRun")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("CiphertextBlob", ciphertextBlob)
        json.member("DestinationEncryptionAlgorithm", destinationEncryptionAlgorithm)
        json.member("DestinationEncryptionContext", destinationEncryptionContext)
        json.member("DestinationKeyId", destinationKeyId)
        json.member("DryRun", dryRun)
        json.member("GrantTokens", grantTokens)
        json.member("SourceEncryptionAlgorithm", sourceEncryptionAlgorithm)
        json.member("SourceEncryptionContext", sourceEncryptionContext)
        json.member("SourceKeyId", sourceKeyId)
    }
}

extension ReEncryptResponse: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            ciphertextBlob: try json.blob("CiphertextBlob"),
            sourceKeyId: try json.string("SourceKeyId"),
            keyId: try json.string("KeyId"),
            sourceEncryptionAlgorithm: try json.enumeration("SourceEncryptionAlgorithm"),
            destinationEncryptionAlgorithm: try json.enumeration("DestinationEncryptionAlgorithm")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("CiphertextBlob", ciphertextBlob)
        json.member("DestinationEncryptionAlgorithm", destinationEncryptionAlgorithm)
        json.member("KeyId", keyId)
        json.member("SourceEncryptionAlgorithm", sourceEncryptionAlgorithm)
        json.member("SourceKeyId", sourceKeyId)
    }
}

extension GenerateDataKeyRequest: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            keyId: try json.required("KeyId", json.string),
            encryptionContext: try json.stringMap("EncryptionContext"),
            numberOfBytes: try json.int("NumberOfBytes"),
            keySpec: try json.enumeration("KeySpec"),
            grantTokens: try json.strings("GrantTokens"),
            dryRun: try json.bool("DryRun")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("DryRun", dryRun)
        json.member("EncryptionContext", encryptionContext)
        json.member("GrantTokens", grantTokens)
        json.member("KeyId", keyId)
        json.member("KeySpec", keySpec)
        json.member("NumberOfBytes", numberOfBytes)
    }
}

extension GenerateDataKeyResponse: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            ciphertextBlob: try json.blob("CiphertextBlob"),
            plaintext: try json.blob("Plaintext"),
            keyId: try json.string("KeyId"),
            keyMaterialId: try json.string("KeyMaterialId")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("CiphertextBlob", ciphertextBlob)
        json.member("KeyId", keyId)
        json.member("KeyMaterialId", keyMaterialId)
        json.member("Plaintext", plaintext)
    }
}

extension GenerateDataKeyWithoutPlaintextRequest: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            keyId: try json.required("KeyId", json.string),
            encryptionContext: try json.stringMap("EncryptionContext"),
            keySpec: try json.enumeration("KeySpec"),
            numberOfBytes: try json.int("NumberOfBytes"),
            grantTokens: try json.strings("GrantTokens"),
            dryRun: try json.bool("DryRun")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("DryRun", dryRun)
        json.member("EncryptionContext", encryptionContext)
        json.member("GrantTokens", grantTokens)
        json.member("KeyId", keyId)
        json.member("KeySpec", keySpec)
        json.member("NumberOfBytes", numberOfBytes)
    }
}

extension GenerateDataKeyWithoutPlaintextResponse: AWSJSONDecodable, AWSJSONEncodable {
    package init(awsJSON json: AWSJSONReader) throws(AWSJSONDecodingError) {
        self.init(
            ciphertextBlob: try json.blob("CiphertextBlob"),
            keyId: try json.string("KeyId"),
            keyMaterialId: try json.string("KeyMaterialId")
        )
    }

    package func encode(to json: inout AWSJSONWriter) {
        json.member("CiphertextBlob", ciphertextBlob)
        json.member("KeyId", keyId)
        json.member("KeyMaterialId", keyMaterialId)
    }
}
