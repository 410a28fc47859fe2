import AccessControl
import Crypto
import Foundation
import GRDB
import KMS
import KeyService
import SealedTesting
import Testing

@testable import Storage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func openDirectory(
    _ url: URL,
    environment: [String: String] = [:],
    account: String = "000000000000",
    region: String = "us-east-1"
) throws -> DataDirectory {
    try DataDirectory.open(at: url, environment: environment, account: account, region: region)
}

/// The data directory of a server: first start, later starts, and every refusal.
struct DataDirectoryTests {
    @Test func firstStartCreatesEverythingWithPrivateModes() async throws {
        try await withTemporaryDirectory { parent in
            let url = parent.appendingPathComponent("nested/data")
            let directory = try openDirectory(url, account: "123456789012", region: "eu-west-1")
            defer { try? directory.close() }
            #expect(directory.wasCreated)
            #expect(try permissions(url) == 0o700)
            #expect(try permissions(url.appendingPathComponent("root.key")) == 0o600)
            #expect(try permissions(url.appendingPathComponent("admin.credentials")) == 0o600)
            #expect(try permissions(url.appendingPathComponent("sealed.sqlite")) == 0o600)
            // SQLite gives the WAL and shared-memory files the database file's mode.
            #expect(try permissions(url.appendingPathComponent("sealed.sqlite-wal")) == 0o600)
            #expect(try permissions(url.appendingPathComponent("sealed.sqlite-shm")) == 0o600)
            #expect(try directory.database.journalMode() == "wal")
            #expect(directory.rootKey.bitCount == 256)
            #expect(directory.administratorARN == "arn:aws:iam::123456789012:user/admin")
            #expect(directory.administratorCredentialsURL == url.appendingPathComponent("admin.credentials"))

            // The root key file holds the key in base64.
            let rootKeyText = try String(contentsOf: url.appendingPathComponent("root.key"), encoding: .utf8)
            #expect(Data(base64Encoded: rootKeyText.trimmingCharacters(in: .newlines)) == directory.rootKey.bytes)

            // The credentials file is an AWS shared-credentials file with a comment, read by our own parser.
            let text = try String(contentsOf: directory.administratorCredentialsURL, encoding: .utf8)
            #expect(text.hasPrefix("# "))
            let profile = try #require(ProfileFile.parse(text, kind: .credentials)[profile: "sealed-admin"])
            let id = try #require(profile["aws_access_key_id"])
            let secret = try #require(profile["aws_secret_access_key"])
            #expect(id.hasPrefix("AKIA") && id.count == 20)
            #expect(secret.count == 40)
            let stored = try #require(try await directory.credentialStore.accessKey(id: id))
            #expect(stored.secretAccessKey == secret)
            #expect(stored.principalARN == "arn:aws:iam::123456789012:user/admin")
            #expect(stored.status == .active)
            #expect(try await directory.credentialStore.accessKeys(of: nil).count == 1)
        }
    }

    @Test func laterStartsReuseEverything() async throws {
        try await withTemporaryDirectory { url in
            let first = try openDirectory(url)
            let credentials = try Data(contentsOf: first.administratorCredentialsURL)
            let rootKey = first.rootKey.bytes
            let administrators = try await first.credentialStore.accessKeys(of: nil)
            try await first.keyStore.commit(KeyStoreBatch([.putKey(keyRecord("k"), expectedRevision: nil)]))
            try first.close()

            let second = try openDirectory(url)
            defer { try? second.close() }
            #expect(!second.wasCreated)
            #expect(second.rootKey.bytes == rootKey)
            #expect(try Data(contentsOf: second.administratorCredentialsURL) == credentials)
            #expect(try await second.credentialStore.accessKeys(of: nil) == administrators)
            #expect(try await second.keyStore.key(id: "k") == keyRecord("k"))
            #expect(second.administratorARN == "arn:aws:iam::000000000000:user/admin")
        }
    }

    @Test func aRootKeyFromTheEnvironmentIsNeverWritten() async throws {
        try await withTemporaryDirectory { url in
            let key = SymmetricKey(size: .bits256)
            let environment = ["SEALED_ROOT_KEY": key.bytes.base64EncodedString()]
            let first = try openDirectory(url, environment: environment)
            #expect(first.wasCreated)
            #expect(first.rootKey.bytes == key.bytes)
            #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("root.key").path))
            try first.close()

            let second = try openDirectory(url, environment: environment)
            #expect(!second.wasCreated)
            try second.close()

            // Without the variable, and no key file, the directory is refused rather than given a new key.
            let error = await expectStorageError(.missingRootKey) { _ = try openDirectory(url) }
            #expect(error?.message.contains("SEALED_ROOT_KEY") == true)
            #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("root.key").path))
            try openDirectory(url, environment: environment).close()
        }
    }

    @Test(arguments: ["", "not base64!", Data(count: 16).base64EncodedString(), Data(count: 33).base64EncodedString()])
    func malformedRootKeysAreRefused(value: String) async throws {
        try await withTemporaryDirectory { url in
            let error = await expectStorageError(.invalidRootKey) {
                _ = try openDirectory(url, environment: ["SEALED_ROOT_KEY": value])
            }
            #expect(error?.message.contains(value.isEmpty ? "\u{0}" : value) == false)
            #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("sealed.sqlite").path))
        }
    }

    @Test func aWrongRootKeyIsRefusedAndChangesNothing() async throws {
        try await withTemporaryDirectory { url in
            let right = SymmetricKey(size: .bits256)
            let wrong = SymmetricKey(size: .bits256)
            let first = try openDirectory(url, environment: ["SEALED_ROOT_KEY": right.bytes.base64EncodedString()])
            let credentials = try Data(contentsOf: first.administratorCredentialsURL)
            try first.close()

            let error = await expectStorageError(.wrongRootKey) {
                _ = try openDirectory(url, environment: ["SEALED_ROOT_KEY": wrong.bytes.base64EncodedString()])
            }
            #expect(error?.message.contains(wrong.bytes.base64EncodedString()) == false)
            #expect(error?.message.contains(right.bytes.base64EncodedString()) == false)

            // A root key file with another key is refused the same way.
            let file = url.appendingPathComponent("root.key")
            _ = FileManager.default.createFile(
                atPath: file.path,
                contents: Data(wrong.bytes.base64EncodedString().utf8),
                attributes: [.posixPermissions: 0o600]
            )
            await expectStorageError(.wrongRootKey) { _ = try openDirectory(url) }

            // Nothing was reinitialised: the right key still opens it, with the same administrator.
            let again = try openDirectory(url, environment: ["SEALED_ROOT_KEY": right.bytes.base64EncodedString()])
            defer { try? again.close() }
            #expect(!again.wasCreated)
            #expect(try Data(contentsOf: again.administratorCredentialsURL) == credentials)
        }
    }

    @Test func aDatabaseOfAnotherFormatVersionIsRefused() async throws {
        try await withTemporaryDirectory { url in
            try openDirectory(url).close()
            let databaseURL = url.appendingPathComponent("sealed.sqlite")
            try await DatabaseQueue(path: databaseURL.path).write { db in
                try db.execute(sql: "UPDATE meta SET value = 99 WHERE name = 'format_version'")
            }
            let error = await expectStorageError(.incompatibleVersion) { _ = try openDirectory(url) }
            #expect(error?.message.contains("99") == true)
            // Left as it was.
            let version = try await DatabaseQueue(path: databaseURL.path).read { db in
                try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'")
            }
            #expect(version == 99)
        }
    }

    @Test func aDatabaseMigratedByANewerProgramIsRefused() async throws {
        try await withTemporaryDirectory { url in
            try openDirectory(url).close()
            try await DatabaseQueue(path: url.appendingPathComponent("sealed.sqlite").path).write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2-from-the-future')")
            }
            await expectStorageError(.incompatibleVersion) { _ = try openDirectory(url) }
        }
    }

    @Test func aForeignDatabaseIsRefused() async throws {
        try await withTemporaryDirectory { url in
            let databaseURL = url.appendingPathComponent("sealed.sqlite")
            try await DatabaseQueue(path: databaseURL.path).write { db in
                try db.execute(sql: "CREATE TABLE something (x)")
            }
            _ = FileManager.default.createFile(
                atPath: url.appendingPathComponent("root.key").path,
                contents: Data(SymmetricKey(size: .bits256).bytes.base64EncodedString().utf8),
                attributes: [.posixPermissions: 0o600]
            )
            await expectStorageError(.incompatibleVersion) { _ = try openDirectory(url) }
            // A file that is not SQLite at all.
            try Data(repeating: 0x41, count: 4096).write(to: databaseURL)
            try? FileManager.default.removeItem(atPath: databaseURL.path + "-wal")
            try? FileManager.default.removeItem(atPath: databaseURL.path + "-shm")
            await expectStorageError(.databaseUnavailable) { _ = try openDirectory(url) }
            #expect(try Data(contentsOf: databaseURL) == Data(repeating: 0x41, count: 4096))
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o666] as [mode_t])
    func aRootKeyFileOthersCanReadIsRefused(mode: mode_t) async throws {
        try await withTemporaryDirectory { url in
            let directory = try openDirectory(url)
            let rootKey = directory.rootKey.bytes.base64EncodedString()
            try directory.close()
            let file = url.appendingPathComponent("root.key")
            #expect(chmod(file.path, mode) == 0)
            let error = await expectStorageError(.rootKeyPermissions) { _ = try openDirectory(url) }
            #expect(error?.message.contains(String(mode, radix: 8)) == true)
            #expect(error?.message.contains(rootKey) == false)
            #expect(chmod(file.path, 0o600) == 0)
            try openDirectory(url).close()
        }
    }

    @Test func anotherAccountOrRegionIsRefused() async throws {
        try await withTemporaryDirectory { url in
            try openDirectory(url).close()
            await expectStorageError(.configurationMismatch) { _ = try openDirectory(url, account: "111111111111") }
            await expectStorageError(.configurationMismatch) { _ = try openDirectory(url, region: "eu-west-1") }
            try openDirectory(url).close()
        }
    }

    @Test func aFileIsNotADataDirectory() async throws {
        try await withTemporaryDirectory { parent in
            let file = parent.appendingPathComponent("file")
            _ = FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
            await expectStorageError(.notADirectory) { _ = try openDirectory(file) }
        }
    }

    @Test func anInterruptedFirstStartIsCompletedOnTheNextStart() async throws {
        try await withTemporaryDirectory { url in
            // A first start that stopped after the database was migrated but before it was initialised.
            _ = FileManager.default.createFile(
                atPath: url.appendingPathComponent("root.key").path,
                contents: Data(SymmetricKey(size: .bits256).bytes.base64EncodedString().utf8),
                attributes: [.posixPermissions: 0o600]
            )
            try SQLiteDatabase.open(at: url.appendingPathComponent("sealed.sqlite")).close()
            let directory = try openDirectory(url)
            defer { try? directory.close() }
            #expect(directory.wasCreated)
            let text = try String(contentsOf: directory.administratorCredentialsURL, encoding: .utf8)
            let id = try #require(
                ProfileFile.parse(text, kind: .credentials)[profile: "sealed-admin"]?["aws_access_key_id"]
            )
            #expect(try await directory.credentialStore.accessKey(id: id) != nil)
        }
    }

    @Test func nothingPrintsTheRootKeyOrTheAdministratorSecret() async throws {
        try await withTemporaryDirectory { url in
            let directory = try openDirectory(url)
            defer { try? directory.close() }
            let text = try String(contentsOf: directory.administratorCredentialsURL, encoding: .utf8)
            let secret = try #require(
                ProfileFile.parse(text, kind: .credentials)[profile: "sealed-admin"]?["aws_secret_access_key"]
            )
            var dumped = ""
            dump(directory, to: &dumped)
            let rootKey = directory.rootKey.bytes
            for printed in [String(describing: directory), String(reflecting: directory), dumped] {
                #expect(!printed.contains(rootKey.base64EncodedString()))
                #expect(!printed.contains(rootKey.map { String(format: "%02x", $0) }.joined()))
                #expect(!printed.contains(secret))
            }
        }
    }
}

extension SymmetricKey {
    var bytes: Data { withUnsafeBytes { Data($0) } }
}
