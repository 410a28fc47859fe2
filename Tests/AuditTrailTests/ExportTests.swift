import AuditTrail
import Crypto
import Foundation
import Testing

/// Runs `body` with a new empty directory, removed afterwards.
func withAuditTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("audit-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

@Suite struct ExportTests {
    let key = AuditSigningKey.generate()

    @Test func fullExportVerifiesWithTheFileAndThePublicKeyAlone() async throws {
        let made = try await Samples.chain(count: 30, digestEvery: 10, key: key)
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("audit.json")
            let summary = try await made.store.export(to: file, publicKey: key.publicKey)
            #expect(summary == Export.Summary(records: 30, digests: 3, firstSequence: 1, lastSequence: 30))
            let publicKey = try AuditSigningKey.publicKey(pem: key.publicKeyPEM)
            let report = try Export.verify(fileAt: file, publicKey: publicKey)
            #expect(report.isValid)
            #expect(report.recordsChecked == 30 && report.digestsChecked == 3)

            // CloudTrail tools read it: {"Records": [...]} of CloudTrail-shaped records.
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
            let records = object?["Records"] as? [[String: Any]]
            #expect(records?.count == 30)
            #expect(records?.first?["eventSource"] as? String == "kms.amazonaws.com")
            #expect((object?["Digests"] as? [Any])?.count == 3)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(leftovers == ["audit.json"])
        }
    }

    /// An export asked to start at `from` starts right after the newest digest's head before it, and carries that
    /// digest, which vouches for its first record's previous hash.
    @Test(arguments: [(Int64(15), Int64(11), 3), (11, 11, 3), (1, 1, 3), (31, 31, 1)])
    func suffixExportStartsAfterADigestAndVerifiesFromThere(from: Int64, first: Int64, digests: Int) async throws {
        let made = try await Samples.chain(count: 30, digestEvery: 10, key: key)
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("since.json")
            let summary = try await made.store.export(to: file, fromSequence: from, publicKey: key.publicKey)
            #expect(summary.records == Int(31 - first))
            #expect(summary.digests == digests)
            let report = try Export.verify(fileAt: file, publicKey: key.publicKey)
            #expect(report.isValid)
            #expect(report.firstSequence == (first <= 30 ? first : nil))
            // The digest whose head is the record before the first is checked against its stored previous hash.
            #expect(report.digestsChecked == (first <= 30 ? digests : 0))
        }
    }

    /// #6: an export whose front was cut off (records removed before a point no digest names) does not verify, nor
    /// does one whose header names another start than its records.
    @Test(arguments: [(Int64(5), Int64(5)), (5, 1), (12, 11)])
    func anExportCutAtTheFrontFails(cutBefore: Int64, claimedFirst: Int64) async throws {
        let made = try await Samples.chain(count: 30, digestEvery: 10, key: key)
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("cut.json")
            let digests = try await made.store.digests()
            var writer = try Export.Writer(
                to: file,
                publicKey: key.publicKey,
                digests: digests,
                firstSequence: claimedFirst
            )
            for (index, bytes) in made.records.enumerated() where Int64(index + 1) >= cutBefore {
                try writer.append(canonicalBytes: bytes, sequence: Int64(index + 1))
            }
            _ = try writer.finish()
            let report = try Export.verify(fileAt: file, publicKey: key.publicKey)
            #expect(report.problem?.kind == .unanchoredStart)
            #expect(report.problem?.sequence == cutBefore)
        }
    }

    /// #6: the unsigned tail of an export may not be much older than its newest record.
    @Test func anExportWhoseOldRecordsNoDigestCoversFails() async throws {
        let store = InMemoryAuditStore()
        try await store.record(Samples.decrypt(1))
        try await store.record(Samples.decrypt(2, time: Samples.baseTime.addingTimeInterval(3_600)))
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("unsigned.json")
            _ = try await store.export(to: file, publicKey: key.publicKey)
            let report = try Export.verify(fileAt: file, publicKey: key.publicKey)
            #expect(report.problem?.kind == .unsignedRecords)
            #expect(report.problem?.sequence == 1)
            #expect(try Export.verify(fileAt: file, publicKey: key.publicKey, unsignedLimit: nil).isValid)
        }
    }

    /// File modes: an export is staged privately and ends up readable by its owner only.
    @Test func anExportIsWrittenWithMode0600() async throws {
        let made = try await Samples.chain(count: 3, digestEvery: 3, key: key)
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("private.json")
            _ = try await made.store.export(to: file, publicKey: key.publicKey)
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.uint16Value == 0o600)
            // Replacing an existing file keeps the rule.
            _ = try await made.store.export(to: file, publicKey: key.publicKey)
            let again = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect((again[.posixPermissions] as? NSNumber)?.uint16Value == 0o600)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["private.json"])
        }
    }

    @Test func editedExportFailsNamingTheRecord() async throws {
        let made = try await Samples.chain(count: 30, digestEvery: 10, key: key)
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("audit.json")
            _ = try await made.store.export(to: file, publicKey: key.publicKey)
            var text = try String(contentsOf: file, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"req-17\"", with: "\"req-71\"")
            try Data(text.utf8).write(to: file)
            let report = try Export.verify(fileAt: file, publicKey: key.publicKey)
            #expect(report.problem?.kind == .changedRecord)
            #expect(report.problem?.sequence == 17)
        }
    }

    @Test func exportWithRecordsCutAfterADigestFails() async throws {
        let made = try await Samples.chain(count: 30, digestEvery: 10, key: key)
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("audit.json")
            _ = try await made.store.export(to: file, publicKey: key.publicKey)
            // Drop the last record's line (and the comma before it).
            var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            let last = lines.lastIndex { $0.hasPrefix("{\"awsRegion\"") }!
            lines.remove(at: last)
            lines[last - 1].removeLast()  // the comma
            try Data(lines.joined(separator: "\n").utf8).write(to: file)
            let report = try Export.verify(fileAt: file, publicKey: key.publicKey)
            #expect(report.problem?.kind == .truncatedTail)
            #expect(report.problem?.sequence == 30)
        }
    }

    @Test(arguments: [
        "", "{}", "[]", #"{"Format":"other","Records":[]}"#, #"{"Format":"sealed-events-audit-export/1"}"#,
    ])
    func notAnExportIsATypedError(text: String) throws {
        #expect(throws: AuditError(.malformedExport, "")) {
            try Export.verify(Data(text.utf8), publicKey: key.publicKey)
        }
    }
}
