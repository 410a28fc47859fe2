// Issue 20's figure: seal+open of a 1 KiB event per data subject (the AWS KMS Hierarchical keyring, its branch key
// cached) beside the same work under the domain's KMS key (the KMS keyring, data keys cached by the caching CMM),
// both against one running `sealed serve` (its KMS and its DynamoDB branch keystore), and the keystore the Python
// peer (scripts/peers/shred_bench.py) measures the official hierarchical keyring on.
import EncryptionSDK
import Foundation
import KMS
import SealedEvents
import SigV4

/// Resolves every subject to the one branch key of the benchmark (the platform's resolve is cached by the Sealer
/// for the erasure delay anyway; what is measured is sealing and opening).
struct BenchResolver: SubjectKeyResolver {
    let key: SubjectKey
    func subjectKey(subjectID: String, eventType: String) async throws -> SubjectKey { key }
}

func shred(endpoint: URL, credentials: SigV4.Credentials, budget: Double) async throws {
    let aws = AWSConfiguration(
        region: "us-east-1",
        credentialProvider: StaticCredentialProvider(credentials),
        kmsEndpoint: endpoint,
        stsEndpoint: endpoint,
        dynamoDBEndpoint: endpoint
    )
    let kms = try KMSClient(configuration: aws)
    let keyArn = try await kms.createKey().keyMetadata!.arn!
    let table = "bench-branch-keys"
    let type = "bench.card.captured"
    // A new subject each run, so that runs against one server do not collide.
    let branchKeyID = "\(type)/s-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let store = try BranchKeyStore(
        tableName: table,
        logicalKeyStoreName: table,
        kmsKeyARN: keyArn,
        dynamoDB: try DynamoDBClient(configuration: aws),
        kms: kms
    )
    try await store.createKeyStore()
    try await store.createKey(branchKeyID: branchKeyID, encryptionContext: ["eventType": type, "domain": "bench"])
    // What the Python peer needs to measure the same work on the same keystore.
    print("shred_key_arn \(keyArn)")
    print("shred_table \(table)")
    print("shred_branch_key_id \(branchKeyID)")

    var subjects = try SubjectKeys.keyStore(aws: aws, table: table)
    subjects.resolver = BenchResolver(key: SubjectKey(branchKeyID: branchKeyID, keyStoreTable: table))
    let kmsKeyring = try KMSKeyring(generatorKeyId: nil, keyIds: [keyArn], client: kms)
    // As in seal-open: EVENT_BENCH_SUITE and EVENT_BENCH_ITERATIONS (exact counts, for callgrind), and
    // EVENT_BENCH_KEYRING=kms|hierarchy to measure one of the two.
    let environment = ProcessInfo.processInfo.environment
    let iterations = environment["EVENT_BENCH_ITERATIONS"].flatMap { Int($0) }
    for suite in [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384]
    where environment["EVENT_BENCH_SUITE"].map({ $0 == suite.description }) ?? true {
        let fields = [try JSONPointer("/card/number"), try JSONPointer("/card/holder")]
        let domainKeyed = EventTypeDescriptor(
            name: type, domain: "bench", classification: .restricted, keyArn: keyArn, algorithmSuite: suite,
            sealing: .fields(fields)
        )
        var subjectKeyed = domainKeyed
        subjectKeyed.subjectField = try JSONPointer("/card/holder")
        let runs: [(String, EventTypeDescriptor, Sealer, Opener)] = [
            ("kms", domainKeyed, try Sealer(kms: kms), try Opener(keyring: kmsKeyring)),
            (
                "hierarchy", subjectKeyed, try Sealer(kms: kms, subjects: subjects),
                try Opener(keyring: kmsKeyring, subjects: subjects)
            ),
        ]
        for (label, descriptor, sealer, opener) in runs
        where environment["EVENT_BENCH_KEYRING"].map({ $0 == label }) ?? true {
            let data = try sampleData(0)
            // One event first: the data key or the branch key is fetched once, outside the timed loop.
            _ = try await opener.open(
                try await sealer.seal(
                    Envelope(metaData: MetaData(eventId: Sealer.makeEventId(), eventType: type, domain: "bench", source: "bench"), data: data),
                    as: descriptor
                ),
                as: descriptor
            )
            var count = 0
            let clock = ContinuousClock()
            let start = clock.now
            while iterations.map({ count < $0 }) ?? (seconds(clock.now - start) < budget) {
                let event = Envelope(
                    metaData: MetaData(eventId: Sealer.makeEventId(), eventType: type, domain: "bench", source: "bench"),
                    data: data
                )
                let sealed = try await sealer.seal(event, as: descriptor)
                let opened = try await opener.open(sealed, as: descriptor)
                if count == 0 { precondition(opened.data == data) }
                count += 1
            }
            let elapsed = seconds(clock.now - start)
            print("shred_\(label)_\(suite.description)_per_second \(Int(Double(count) / elapsed))")
        }
    }
}
