import AccessControl
import Crypto
import Foundation
import KMS
import KeyService
import SealedTesting
import SigV4
import Storage
import Testing

/// The key service over the SQLite store of a data directory, across a restart.
struct EndToEndTests {
    @Test func keysAndCiphertextsSurviveARestart() async throws {
        try await withTemporaryDirectory { url in
            let blob: Data
            let keyID: String
            do {
                let directory = try openDirectory(url)
                let administrator = Caller(principal: directory.administratorARN, sourceIP: "127.0.0.1")
                let service = try KeyService(
                    store: directory.keyStore,
                    rootKey: directory.rootKey,
                    authorizer: AdministratorAuthorizer(administrator: directory.administratorARN)
                )
                let created = try await service.createKey(
                    CreateKeyRequest(description: "durable"),
                    caller: administrator
                )
                keyID = try #require(created.keyMetadata?.keyId)
                _ = try await service.createAlias(
                    CreateAliasRequest(aliasName: "alias/durable", targetKeyId: keyID),
                    caller: administrator
                )
                _ = try await service.rotateKeyOnDemand(RotateKeyOnDemandRequest(keyId: keyID), caller: administrator)
                let encrypted = try await service.encrypt(
                    EncryptRequest(
                        keyId: "alias/durable",
                        plaintext: Data("card 4111".utf8),
                        encryptionContext: ["eventType": "payments.card.captured"]
                    ),
                    caller: administrator
                )
                blob = try #require(encrypted.ciphertextBlob)
                // The stranger is refused, as the administrator authorizer says.
                await #expect(throws: KMSError.self) {
                    _ = try await service.decrypt(
                        DecryptRequest(ciphertextBlob: blob),
                        caller: Caller(principal: "arn:aws:iam::000000000000:user/mallory")
                    )
                }
                try directory.close()
            }

            let directory = try openDirectory(url)
            defer { try? directory.close() }
            #expect(!directory.wasCreated)
            let administrator = Caller(principal: directory.administratorARN)
            let service = try KeyService(
                store: directory.keyStore,
                rootKey: directory.rootKey,
                authorizer: AdministratorAuthorizer(administrator: directory.administratorARN)
            )
            let decrypted = try await service.decrypt(
                DecryptRequest(ciphertextBlob: blob, encryptionContext: ["eventType": "payments.card.captured"]),
                caller: administrator
            )
            #expect(decrypted.plaintext == Data("card 4111".utf8))
            #expect(decrypted.keyId?.hasSuffix(keyID) == true)
            let described = try await service.describeKey(
                DescribeKeyRequest(keyId: "alias/durable"),
                caller: administrator
            )
            #expect(described.keyMetadata?.keyId == keyID)
            let rotations = try await service.listKeyRotations(
                ListKeyRotationsRequest(keyId: keyID),
                caller: administrator
            )
            #expect(rotations.rotations?.count == 1)
            // The stored record holds only sealed material.
            let record = try #require(try await directory.keyStore.key(id: keyID))
            #expect(record.materials.count == 2)
            #expect(record.materials.allSatisfy { $0.sealed.count == 12 + 32 + 16 })
        }
    }

    @Test func anotherRootKeyCannotDecryptWhatTheDirectoryStores() async throws {
        try await withTemporaryDirectory { url in
            let directory = try openDirectory(url)
            defer { try? directory.close() }
            let administrator = Caller(principal: directory.administratorARN)
            let service = try KeyService(
                store: directory.keyStore,
                rootKey: directory.rootKey,
                authorizer: AdministratorAuthorizer(administrator: directory.administratorARN)
            )
            let keyID = try #require(
                try await service.createKey(CreateKeyRequest(), caller: administrator).keyMetadata?.keyId
            )
            let blob = try #require(
                try await service.encrypt(
                    EncryptRequest(keyId: keyID, plaintext: Data("x".utf8)),
                    caller: administrator
                )
                .ciphertextBlob
            )
            let impostor = try KeyService(
                store: directory.keyStore,
                rootKey: SymmetricKey(size: .bits256),
                authorizer: AdministratorAuthorizer(administrator: directory.administratorARN)
            )
            await #expect(throws: KMSError.self) {
                _ = try await impostor.decrypt(DecryptRequest(ciphertextBlob: blob), caller: administrator)
            }
        }
    }
}

/// The administrator's credentials file signs a request that a SigV4 verifier, looking keys up in the credential
/// store, accepts — until the key is deactivated.
struct SigV4EndToEndTests {
    @Test func theAdministratorCredentialsVerifyThroughTheCredentialStore() async throws {
        try await withTemporaryDirectory { url in
            let directory = try openDirectory(url)
            defer { try? directory.close() }
            let text = try String(contentsOf: directory.administratorCredentialsURL, encoding: .utf8)
            let profile = try #require(ProfileFile.parse(text, kind: .credentials)[profile: "sealed-admin"])
            let credentials = Credentials(
                accessKeyId: try #require(profile["aws_access_key_id"]),
                secretAccessKey: try #require(profile["aws_secret_access_key"])
            )
            let store = directory.credentialStore
            let now = Date()
            let verifier = Verifier(region: "us-east-1", services: ["kms"], now: { now }) { id in
                guard let key = try await store.accessKey(id: id), key.status == .active else { return nil }
                return Verifier.Secret(
                    secretAccessKey: key.secretAccessKey,
                    sessionToken: key.sessionToken,
                    expiration: key.expiration
                )
            }
            let body = Data(#"{"KeyId":"alias/x","Plaintext":"AA=="}"#.utf8)
            let request = Request(
                method: "POST",
                path: "/",
                headers: [
                    (name: "Host", value: "127.0.0.1:8080"),
                    (name: "Content-Type", value: "application/x-amz-json-1.1"),
                    (name: "X-Amz-Target", value: "TrentService.Encrypt"),
                ],
                payload: .body(body)
            )
            let signature = Signer().sign(
                request,
                credentials: credentials,
                region: "us-east-1",
                service: "kms",
                date: now
            )
            var signed = request
            let replaced = Set(signature.headers.map { $0.name.lowercased() })
            signed.headers = request.headers.filter { !replaced.contains($0.name.lowercased()) } + signature.headers

            let verified = try await verifier.verify(signed)
            #expect(verified.principal?.accessKeyId == credentials.accessKeyId)
            let key = try #require(try await store.accessKey(id: credentials.accessKeyId))
            #expect(key.principalARN == directory.administratorARN)

            try await store.deactivate(id: credentials.accessKeyId)
            #expect(try await verifier.verify(signed).principal == nil)
        }
    }
}
