import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import SigV4

/// Counts the KMS calls that 100,000 encryptions make through the caching CMM over the KMS keyring,
/// against a KMS endpoint (the moto server of scripts/bench), and compares them with what the cache's
/// limits allow: one GenerateDataKey per `maxMessages` messages.
///
/// usage: kms-call-count FIXTURE.json [MESSAGES] [MAX_MESSAGES]
struct Fixture: Decodable {
    struct User: Decodable {
        var accessKeyId: String
        var secretAccessKey: String
    }
    var endpoint: String
    var region: String
    var keys: [String: String]
    var users: [String: User]
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: kms-call-count FIXTURE.json [MESSAGES] [MAX_MESSAGES]")
    exit(2)
}
let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: arguments[1])))
let messages = arguments.count > 2 ? Int(arguments[2])! : 100_000
let maxMessages = arguments.count > 3 ? UInt64(arguments[3])! : 1_000
let user = fixture.users["allowed"]!
let client = try KMSClient(
    region: fixture.region,
    credentialProvider: StaticCredentialProvider(
        Credentials(accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey)
    ),
    endpoint: URL(string: fixture.endpoint)!
)
let keyring = CountingKeyring(try KMSKeyring(generatorKeyId: fixture.keys["primary"]!, client: client))
let cmm = try CachingMaterialsManager(keyring: keyring, maxAge: .seconds(3600), maxMessages: maxMessages)
let encryption = EncryptionClient()
let plaintext = [UInt8](repeating: 7, count: 1024)
let start = ContinuousClock.now
for _ in 0..<messages {
    _ = try await encryption.encrypt(
        plaintext,
        materialsManager: cmm,
        encryptionContext: ["eventType": "bench"],
        algorithmSuite: .aes256GCMHKDFSHA512Committing
    )
}
let elapsed = ContinuousClock.now - start
let calls = keyring.encryptCalls
let expected = (messages + Int(maxMessages) - 1) / Int(maxMessages)
print(
    "kms calls for \(messages) encryptions (maxMessages \(maxMessages)): \(calls), allowed by the limits: \(expected) in \(elapsed)"
)
exit(calls == expected ? 0 : 1)
