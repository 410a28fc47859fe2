import Foundation
import KMS
import KeyService
import Testing

struct DeletionTests {
    @Test func deletionWindowDefaultsToThirtyDaysAndCancelLeavesTheKeyDisabled() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let scheduled = try await fixture.scheduleDeletion(key.keyId)
        #expect(scheduled.keyId == key.arn)
        #expect(scheduled.keyState == .pendingDeletion)
        #expect(scheduled.pendingWindowInDays == 30)
        #expect(scheduled.deletionDate == fixture.clock.now.addingTimeInterval(30 * 86_400))
        let described = try await fixture.describe(key.keyId)
        #expect(described.keyState == .pendingDeletion)
        #expect(described.enabled == false)
        #expect(described.deletionDate == scheduled.deletionDate)

        let cancelled = try await fixture.service.cancelKeyDeletion(
            CancelKeyDeletionRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(cancelled.keyId == key.arn)
        let after = try await fixture.describe(key.keyId)
        #expect(after.keyState == .disabled)
        #expect(after.deletionDate == nil)
        await expectKMSError(.kmsInvalidStateException) {
            _ = try await fixture.service.cancelKeyDeletion(
                CancelKeyDeletionRequest(keyId: key.keyId),
                caller: administrator
            )
        }
    }

    @Test(arguments: [0, 6, 31, -1])
    func windowOutsideSevenToThirtyDaysIsRefused(days: Int) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let error = await expectKMSError(.validationException) {
            _ = try await fixture.scheduleDeletion(key.keyId, days: days)
        }
        #expect(error?.message.contains("pendingWindowInDays") == true)
        #expect(try await fixture.describe(key.keyId).keyState == .enabled)
    }

    @Test func pendingKeyRefusesUseWithInvalidStateAndEnableKey() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        _ = try await fixture.scheduleDeletion(key.keyId, days: 7)
        let error = await expectKMSError(.kmsInvalidStateException) { _ = try await fixture.encrypt(key.keyId) }
        #expect(error?.message == "\(key.arn!) is pending deletion.")
        await expectKMSError(.kmsInvalidStateException) { try await fixture.enable(key.keyId) }
        await expectKMSError(.kmsInvalidStateException) { _ = try await fixture.scheduleDeletion(key.keyId) }
    }

    @Test func afterTheWindowTheKeyIsGoneAndMaintenanceDestroysIt() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let other = try await fixture.createKey()
        try await fixture.createAlias("alias/doomed", target: key.keyId)
        let blob = try await fixture.encrypt(key.keyId)
        _ = try await fixture.scheduleDeletion(key.keyId, days: 7)

        fixture.clock.advance(days: 7)
        fixture.clock.advance(seconds: -1)
        #expect(try await fixture.describe(key.keyId).keyState == .pendingDeletion)
        #expect(try await fixture.service.runMaintenance().deletedKeyIDs == [])

        fixture.clock.advance(seconds: 1)
        // Gone at once, before maintenance runs.
        let notFound = await expectKMSError(.notFoundException) { _ = try await fixture.describe(key.keyId) }
        #expect(notFound?.message == "Key '\(key.arn!)' does not exist")
        await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(blob) }
        await expectKMSError(.notFoundException) { _ = try await fixture.decrypt(blob, keyID: key.keyId) }
        let listed = try await fixture.service.listKeys(ListKeysRequest(), caller: administrator)
        #expect(listed.keys?.compactMap(\.keyId) == [other.keyId])

        let report = try await fixture.service.runMaintenance()
        #expect(report.deletedKeyIDs == [key.keyId])
        #expect(await fixture.store.key(id: key.keyId) == nil)
        #expect(await fixture.store.alias(named: "alias/doomed") == nil)
        await expectKMSError(.notFoundException) { _ = try await fixture.describe("alias/doomed") }
        await expectKMSError(.notFoundException) {
            _ = try await fixture.service.cancelKeyDeletion(
                CancelKeyDeletionRequest(keyId: key.keyId),
                caller: administrator
            )
        }
        #expect(try await fixture.service.runMaintenance() == KeyService.MaintenanceReport())
        // The other key is untouched.
        #expect(try await fixture.describe(other.keyId).keyState == .enabled)
    }
}

struct RotationTests {
    @Test func rotationStatusAndPeriodRules() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        var status = try await fixture.service.getKeyRotationStatus(
            GetKeyRotationStatusRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(status.keyRotationEnabled == false)
        #expect(status.keyId == key.arn)
        #expect(status.nextRotationDate == nil)

        for days in [89, 2561] {
            await expectKMSError(.validationException) {
                _ = try await fixture.service.enableKeyRotation(
                    EnableKeyRotationRequest(keyId: key.keyId, rotationPeriodInDays: days),
                    caller: administrator
                )
            }
        }
        _ = try await fixture.service.enableKeyRotation(
            EnableKeyRotationRequest(keyId: key.keyId),
            caller: administrator
        )
        status = try await fixture.service.getKeyRotationStatus(
            GetKeyRotationStatusRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(status.keyRotationEnabled == true)
        #expect(status.rotationPeriodInDays == 365)
        #expect(status.nextRotationDate == fixture.clock.now.addingTimeInterval(365 * 86_400))

        _ = try await fixture.service.disableKeyRotation(
            DisableKeyRotationRequest(keyId: key.keyId),
            caller: administrator
        )
        status = try await fixture.service.getKeyRotationStatus(
            GetKeyRotationStatusRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(status.keyRotationEnabled == false)
        #expect(status.rotationPeriodInDays == nil)
    }

    @Test func automaticRotationWhenThePeriodPassesAndOldCiphertextsStillDecrypt() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        _ = try await fixture.service.enableKeyRotation(
            EnableKeyRotationRequest(keyId: key.keyId, rotationPeriodInDays: 90),
            caller: administrator
        )
        let before = try await fixture.encrypt(key.keyId, Data("v1".utf8), context: ["k": "v"])

        fixture.clock.advance(days: 89)
        #expect(try await fixture.service.runMaintenance().rotatedKeyIDs == [])
        fixture.clock.advance(days: 1)
        #expect(try await fixture.service.runMaintenance().rotatedKeyIDs == [key.keyId])
        #expect(try await fixture.service.runMaintenance().rotatedKeyIDs == [])

        let after = try await fixture.encrypt(key.keyId, Data("v2".utf8), context: ["k": "v"])
        #expect(before[17..<21] == Data([0, 0, 0, 1]))
        #expect(after[17..<21] == Data([0, 0, 0, 2]))
        #expect(try await fixture.decrypt(before, context: ["k": "v"]) == Data("v1".utf8))
        #expect(try await fixture.decrypt(after, context: ["k": "v"]) == Data("v2".utf8))

        let rotations = try await fixture.service.listKeyRotations(
            ListKeyRotationsRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(rotations.rotations?.count == 1)
        #expect(rotations.rotations?.first?.rotationType == "AUTOMATIC")
        #expect(rotations.rotations?.first?.keyMaterialState == "CURRENT")
        #expect(rotations.rotations?.first?.rotationDate == fixture.clock.now)
        let described = try await fixture.describe(key.keyId)
        #expect(described.currentKeyMaterialId == rotations.rotations?.first?.keyMaterialId)

        let status = try await fixture.service.getKeyRotationStatus(
            GetKeyRotationStatusRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(status.nextRotationDate == fixture.clock.now.addingTimeInterval(90 * 86_400))
    }

    @Test func disabledKeysDoNotRotateUntilEnabledAgain() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        _ = try await fixture.service.enableKeyRotation(
            EnableKeyRotationRequest(keyId: key.keyId, rotationPeriodInDays: 90),
            caller: administrator
        )
        try await fixture.disable(key.keyId)
        fixture.clock.advance(days: 100)
        #expect(try await fixture.service.runMaintenance().rotatedKeyIDs == [])
        try await fixture.enable(key.keyId)
        #expect(try await fixture.service.runMaintenance().rotatedKeyIDs == [key.keyId])
    }

    @Test func onDemandRotationIsImmediateAndLimitedToTen() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        var blobs: [Data] = []
        for round in 0..<10 {
            blobs.append(try await fixture.encrypt(key.keyId, Data("round \(round)".utf8)))
            let rotated = try await fixture.service.rotateKeyOnDemand(
                RotateKeyOnDemandRequest(keyId: key.keyId),
                caller: administrator
            )
            #expect(rotated.keyId == key.arn)
            fixture.clock.advance(seconds: 60)
        }
        await expectKMSError(.limitExceededException) {
            _ = try await fixture.service.rotateKeyOnDemand(
                RotateKeyOnDemandRequest(keyId: key.keyId),
                caller: administrator
            )
        }
        for (round, blob) in blobs.enumerated() {
            #expect(try await fixture.decrypt(blob) == Data("round \(round)".utf8))
        }
        let newest = try await fixture.encrypt(key.keyId)
        #expect(newest[17..<21] == Data([0, 0, 0, 11]))

        let rotations = try await fixture.service.listKeyRotations(
            ListKeyRotationsRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(rotations.rotations?.count == 10)
        #expect(rotations.rotations?.allSatisfy { $0.rotationType == "ON_DEMAND" } == true)
        #expect(rotations.rotations?.filter { $0.keyMaterialState == "CURRENT" }.count == 1)
        let all = try await fixture.service.listKeyRotations(
            ListKeyRotationsRequest(keyId: key.keyId, includeKeyMaterial: "ALL_KEY_MATERIAL"),
            caller: administrator
        )
        #expect(all.rotations?.count == 11)
        #expect(all.rotations?.first?.rotationType == nil)

        let first = try await fixture.service.listKeyRotations(
            ListKeyRotationsRequest(keyId: key.keyId, limit: 4),
            caller: administrator
        )
        #expect(first.rotations?.count == 4)
        #expect(first.truncated == true)
        let rest = try await fixture.service.listKeyRotations(
            ListKeyRotationsRequest(keyId: key.keyId, limit: 100, marker: first.nextMarker),
            caller: administrator
        )
        #expect(rest.rotations?.count == 6)
        #expect(rest.truncated == false)
    }
}
