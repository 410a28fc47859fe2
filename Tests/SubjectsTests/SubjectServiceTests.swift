import AccessControl
import Catalog
import Crypto
import Foundation
import SealedServerTesting
import Subjects
import Testing

/// The subject service over the real catalog and identities (in memory) and a custodian that keeps branch keys in
/// memory: pseudonyms, first-use keys, erasure and its fence, and who may do what.
struct SubjectServiceTests {
    static let admin = "arn:aws:iam::000000000000:user/admin"
    static let subject = "alice@example.com"

    /// Domain keys named after their domain; the key service is not what these tests are about.
    struct Provisioner: KeyProvisioner {
        func createKey(forDomain domain: String, owner: String) -> String {
            "arn:aws:kms:us-east-1:000000000000:key/\(domain)-key"
        }
    }

    /// Two domains with subject-keyed event types, their owning teams, a producer in each, an outsider.
    struct World {
        let identities: IdentityService
        let catalog: EventCatalog
        let store = InMemorySubjectStore()
        let custodian = InMemoryBranchKeyCustodian()
        let subjects: SubjectService

        init() async throws {
            identities = try await IdentityService(
                account: "000000000000",
                store: InMemoryIdentityStore(),
                credentials: InMemoryCredentialStore()
            )
            try await identities.ensureAdministrator(named: "admin")
            catalog = try await EventCatalog(identities: identities, store: InMemoryCatalogStore(), keys: Provisioner())
            for (team, user) in [("payments", "checkout"), ("shipping", "courier")] {
                _ = try await identities.createTeam(team, by: .platform)
                _ = try await identities.createUser(user, team: team, by: .platform)
                _ = try await catalog.createDomain(team, owner: team, by: SubjectServiceTests.admin)
            }
            _ = try await identities.createUser("analyst", team: nil, by: .platform)
            for spec in [
                EventCatalog.EventTypeSpecification(
                    name: "payments.order.placed",
                    domain: "payments",
                    subjectField: "/customer/id"
                ),
                .init(
                    name: "payments.card.captured",
                    domain: "payments",
                    classification: .restricted,
                    sensitiveFields: ["/customer", "/card"],
                    subjectField: "/customer/id"
                ),
                .init(name: "payments.rate.changed", domain: "payments"),
                .init(name: "shipping.parcel.sent", domain: "shipping", subjectField: "/recipient/id"),
            ] {
                _ = try await catalog.createEventType(spec, by: SubjectServiceTests.admin)
            }
            subjects = SubjectService(catalog: catalog, store: store, custodian: custodian)
        }

        func user(_ name: String) -> String { "arn:aws:iam::000000000000:user/\(name)" }

        /// The branch key of `subject` for `eventType`, resolved by `producer` (a user name).
        func resolve(
            _ eventType: String,
            _ subject: String = SubjectServiceTests.subject,
            by producer: String
        )
            async throws -> SubjectKey
        {
            try await subjects.resolve(subjectID: subject, eventType: eventType, by: user(producer))
        }

        /// A session of an event type's reader role.
        func reader(of eventType: String) -> String {
            "arn:aws:sts::000000000000:assumed-role/reader-\(eventType)/analyst"
        }
    }

    @Test func aPseudonymIsAnHMACOfTheSubjectIDUnderTheDomainsSecret() {
        // Known answer, computed with Python's hmac module.
        let secret = SymmetricKey(data: Data((0..<32).map { UInt8($0) }))
        #expect(Pseudonym.of("alice@example.com", secret: secret) == "s-a59fc578d4cb46faab1d6eb348e7c74b")
        #expect(Pseudonym.of("alice@example.com ", secret: secret) != "s-a59fc578d4cb46faab1d6eb348e7c74b")
    }

    @Test func keysAreCreatedOnFirstUseOnePerEventTypeUnderAStablePseudonymPerDomain() async throws {
        let world = try await World()
        let producer = world.user("checkout")
        let placed = try await world.resolve("payments.order.placed", by: "checkout")
        let captured = try await world.resolve("payments.card.captured", by: "checkout")
        let again = try await world.resolve("payments.order.placed", by: "checkout")
        #expect(again == placed)
        #expect(placed.pseudonym == captured.pseudonym)
        #expect(placed.pseudonym.wholeMatch(of: /s-[0-9a-f]{32}/) != nil, "\(placed.pseudonym)")
        #expect(placed.branchKeyID == "payments.order.placed/" + placed.pseudonym)
        #expect(captured.branchKeyID == "payments.card.captured/" + placed.pseudonym)
        #expect(placed.kmsKeyARN == "arn:aws:kms:us-east-1:000000000000:key/payments-key")
        #expect(await world.custodian.creations == [placed.branchKeyID, captured.branchKeyID])
        let created = try #require(await world.custodian.keys[placed.branchKeyID])
        #expect(created.encryptionContext == ["eventType": "payments.order.placed", "domain": "payments"])
        #expect(created.kmsKeyARN == placed.kmsKeyARN)

        let shipped = try await world.resolve("shipping.parcel.sent", by: "courier")
        #expect(shipped.pseudonym != placed.pseudonym)
        let other = try await world.subjects.resolve(
            subjectID: "bob@example.com",
            eventType: "payments.order.placed",
            by: producer
        )
        #expect(other.pseudonym != placed.pseudonym)
        // A new service over the same store gives the same pseudonyms (the secret is the store's).
        let restarted = SubjectService(catalog: world.catalog, store: world.store, custodian: world.custodian)
        #expect(
            try await restarted.resolve(subjectID: Self.subject, eventType: "payments.order.placed", by: producer)
                == placed
        )
    }

    @Test func erasureDestroysTheSubjectsKeysInTheDomainAndFencesIt() async throws {
        let world = try await World()
        let producer = world.user("checkout")
        let placed = try await world.resolve("payments.order.placed", by: "checkout")
        let captured = try await world.resolve("payments.card.captured", by: "checkout")
        await world.custodian.version(captured.branchKeyID)
        let bob = try await world.subjects.resolve(subjectID: "bob", eventType: "payments.order.placed", by: producer)
        let shipped = try await world.resolve("shipping.parcel.sent", by: "courier")

        let receipts = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: "payments",
            reason: "Art. 17 request 42",
            by: producer
        )
        #expect(receipts.map(\.domain) == ["payments"])
        #expect(receipts.first?.pseudonym == placed.pseudonym)
        #expect(receipts.first?.keysDestroyed == 7)  // 3 items of one key, 4 of the versioned one
        let left = await world.custodian.keys
        #expect(left[placed.branchKeyID] == nil && left[captured.branchKeyID] == nil)
        #expect(left[bob.branchKeyID] != nil && left[shipped.branchKeyID] != nil)

        do {
            _ = try await world.resolve("payments.order.placed", by: "checkout")
            Issue.record("an erased subject's key was resolved")
        } catch let error as SubjectError {
            #expect(error.code == .subjectErased)
            #expect(error.message.contains(placed.pseudonym) && !error.message.contains(Self.subject))
        }
        #expect(await world.custodian.creations.count == 4, "no key was created again")
        // Other subjects and other domains are untouched.
        #expect(
            try await world.subjects.resolve(subjectID: "bob", eventType: "payments.order.placed", by: producer) == bob
        )
        #expect(
            try await world.resolve("shipping.parcel.sent", by: "courier") == shipped
        )

        let shown = try await world.subjects.show(subjectID: Self.subject, domain: nil, by: Self.admin)
        #expect(shown.map(\.domain) == ["payments", "shipping"])
        let erased = try #require(shown.first)
        #expect(erased.keys.isEmpty)
        #expect(erased.fence?.isStanding == true)
        #expect(erased.fence?.reason == "Art. 17 request 42")
        #expect(erased.fence?.principal == producer)
        #expect(shown.last?.fence == nil && shown.last?.keys.map(\.branchKeyID) == [shipped.branchKeyID])
    }

    @Test func erasingAgainRepeatsNothingAndFinishesAFailedErasure() async throws {
        let world = try await World()
        let producer = world.user("checkout")
        let placed = try await world.resolve("payments.order.placed", by: "checkout")
        let captured = try await world.resolve("payments.card.captured", by: "checkout")
        // Keys are destroyed in branch key id order: card.captured first, then order.placed, which fails.
        await world.custodian.failNextDestroy(of: placed.branchKeyID)
        await #expect(throws: InMemoryBranchKeyCustodian.Failure.self) {
            _ = try await world.subjects.erase(subjectID: Self.subject, domain: "payments", reason: "r", by: producer)
        }
        // The fence was recorded first: the subject is already fenced, one key is left.
        await #expect(throws: SubjectError.self) {
            _ = try await world.resolve("payments.card.captured", by: "checkout")
        }
        let half = try #require(
            try await world.subjects.show(subjectID: Self.subject, domain: "payments", by: producer).first
        )
        #expect(half.keys.map(\.branchKeyID) == [placed.branchKeyID])
        #expect(half.fence?.keysDestroyed == 3)
        #expect(await world.custodian.keys[captured.branchKeyID] == nil)

        let finished = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: "payments",
            reason: "retry",
            by: producer
        )
        #expect(finished.first?.keysDestroyed == 6)
        #expect(finished.first?.erasureDate == half.fence?.erasureDate)
        #expect(await world.custodian.keys.isEmpty)
        let repeated = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: "payments",
            reason: "again",
            by: producer
        )
        #expect(repeated == finished)
        let fence = try #require(
            try await world.subjects.show(subjectID: Self.subject, domain: "payments", by: producer).first?.fence
        )
        #expect(fence.reason == "r", "the first erasure's record stands")
    }

    @Test func aKeyCreatedButNotRecordedIsStillDestroyed() async throws {
        let world = try await World()
        // A crash between creating the key and recording it: the keystore has it, the registry does not.
        let pseudonym = try #require(
            try await world.subjects.show(subjectID: Self.subject, domain: "payments", by: Self.admin).first?.pseudonym
        )
        let id = Pseudonym.branchKeyID(eventType: "payments.order.placed", pseudonym: pseudonym)
        await world.custodian.createBranchKey(id: id, kmsKeyARN: "k", encryptionContext: [:])
        let receipts = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: "payments",
            reason: "r",
            by: Self.admin
        )
        #expect(receipts.first?.keysDestroyed == 3)
        #expect(await world.custodian.keys.isEmpty)
    }

    @Test func erasingASubjectWithoutKeysFencesIt() async throws {
        let world = try await World()
        let receipts = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: "shipping",
            reason: "asked before any event",
            by: world.user("courier")
        )
        #expect(receipts.count == 1 && receipts.first?.keysDestroyed == 0)
        await #expect(throws: SubjectError.self) {
            _ = try await world.resolve("shipping.parcel.sent", by: "courier")
        }
        #expect(await world.custodian.creations.isEmpty)
    }

    @Test func liftingTheFenceLetsNewKeysBeCreated() async throws {
        let world = try await World()
        let producer = world.user("checkout")
        let first = try await world.resolve("payments.order.placed", by: "checkout")
        _ = try await world.subjects.erase(subjectID: Self.subject, domain: "payments", reason: "r", by: producer)
        await #expect(throws: AccessControlError(.validationError, "")) {
            _ = try await world.subjects.liftFence(
                subjectID: Self.subject,
                domain: "payments",
                reason: " ",
                by: producer
            )
        }
        let lifted = try await world.subjects.liftFence(
            subjectID: Self.subject,
            domain: "payments",
            reason: "consent given again",
            by: producer
        )
        #expect(lifted.fence?.isStanding == false)
        #expect(lifted.fence?.lift?.reason == "consent given again")
        let second = try await world.resolve("payments.order.placed", by: "checkout")
        #expect(second.branchKeyID == first.branchKeyID)
        #expect(await world.custodian.creations == [first.branchKeyID, first.branchKeyID])
        await #expect(throws: AccessControlError(.invalidState, "")) {
            _ = try await world.subjects.liftFence(
                subjectID: Self.subject,
                domain: "payments",
                reason: "r",
                by: producer
            )
        }
        // Erasing again fences again, from now.
        let again = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: "payments",
            reason: "r2",
            by: producer
        )
        #expect(again.first?.keysDestroyed == 3)
    }

    @Test func onlyTheOwningTeamAndAdministratorsManageADomainsSubjects() async throws {
        let world = try await World()
        let denied = AccessControlError(.accessDenied, "")
        let courier = world.user("courier")
        let reader = world.reader(of: "payments.order.placed")
        for principal in [courier, reader, world.user("analyst")] {
            await #expect(throws: denied, "\(principal)") {
                _ = try await world.subjects.resolve(
                    subjectID: Self.subject,
                    eventType: "payments.order.placed",
                    by: principal
                )
            }
            await #expect(throws: denied, "\(principal)") {
                _ = try await world.subjects.erase(
                    subjectID: Self.subject,
                    domain: "payments",
                    reason: "r",
                    by: principal
                )
            }
            await #expect(throws: denied, "\(principal)") {
                _ = try await world.subjects.show(subjectID: Self.subject, domain: "payments", by: principal)
            }
            await #expect(throws: denied, "\(principal)") {
                _ = try await world.subjects.liftFence(
                    subjectID: Self.subject,
                    domain: "payments",
                    reason: "r",
                    by: principal
                )
            }
        }
        #expect(await world.custodian.creations.isEmpty)
        _ = try await world.subjects.resolve(
            subjectID: Self.subject,
            eventType: "payments.order.placed",
            by: Self.admin
        )
        _ = try await world.subjects.erase(subjectID: Self.subject, domain: "payments", reason: "r", by: Self.admin)
        _ = try await world.subjects.liftFence(subjectID: Self.subject, domain: "payments", reason: "r", by: Self.admin)
    }

    @Test func erasingEverywhereNeedsEveryDomainWhereTheSubjectHasKeys() async throws {
        let world = try await World()
        let checkout = world.user("checkout")
        let placed = try await world.subjects.resolve(
            subjectID: Self.subject,
            eventType: "payments.order.placed",
            by: checkout
        )
        let shipped = try await world.resolve("shipping.parcel.sent", by: "courier")
        // The payments team may not erase in shipping, where the subject has a key: nothing is erased.
        await #expect(throws: AccessControlError(.accessDenied, "")) {
            _ = try await world.subjects.erase(subjectID: Self.subject, domain: nil, reason: "r", by: checkout)
        }
        #expect(await world.custodian.keys.count == 2)
        // A subject with keys in payments only: the payments team erases it "everywhere" it may.
        _ = try await world.subjects.resolve(subjectID: "carol", eventType: "payments.order.placed", by: checkout)
        let carol = try await world.subjects.erase(subjectID: "carol", domain: nil, reason: "r", by: checkout)
        #expect(carol.map(\.domain) == ["payments"] && carol.first?.keysDestroyed == 3)
        // An administrator erases everywhere, fencing every domain.
        let everywhere = try await world.subjects.erase(
            subjectID: Self.subject,
            domain: nil,
            reason: "r",
            by: Self.admin
        )
        #expect(everywhere.map(\.domain) == ["payments", "shipping"])
        #expect(everywhere.map(\.pseudonym) == [placed.pseudonym, shipped.pseudonym])
        #expect(everywhere.map(\.keysDestroyed) == [3, 3])
        #expect(await world.custodian.keys.isEmpty)
    }

    @Test func inputIsValidatedWithoutRepeatingTheSubjectID() async throws {
        let world = try await World()
        let producer = world.user("checkout")
        let long = String(repeating: "x", count: Pseudonym.maximumSubjectIDBytes + 1)
        for subject in ["", "  \n", long] {
            do {
                _ = try await world.subjects.resolve(
                    subjectID: subject,
                    eventType: "payments.order.placed",
                    by: producer
                )
                Issue.record("subject id \(subject.count) characters was accepted")
            } catch let error as AccessControlError {
                #expect(error.code == .validationError)
                #expect(!error.message.contains("xxxx"))
            }
        }
        let cases: [(AccessControlError.Code, () async throws -> Void)] = [
            (.noSuchEntity, { _ = try await world.resolve("payments.nope", by: "checkout") }),
            (.validationError, { _ = try await world.resolve("payments.rate.changed", by: "checkout") }),
            (
                .noSuchEntity,
                {
                    _ = try await world.subjects.erase(
                        subjectID: Self.subject,
                        domain: "nowhere",
                        reason: "r",
                        by: Self.admin
                    )
                }
            ),
            (
                .validationError,
                {
                    _ = try await world.subjects.erase(
                        subjectID: Self.subject,
                        domain: "payments",
                        reason: " \t",
                        by: producer
                    )
                }
            ),
            (
                .noSuchEntity,
                { _ = try await world.subjects.show(subjectID: Self.subject, domain: "nowhere", by: Self.admin) }
            ),
            (
                .invalidState,
                {
                    _ = try await world.subjects.liftFence(
                        subjectID: Self.subject,
                        domain: "payments",
                        reason: "r",
                        by: producer
                    )
                }
            ),
        ]
        for (code, call) in cases {
            do {
                try await call()
                Issue.record("accepted; expected \(code)")
            } catch let error as AccessControlError {
                #expect(error.code == code, "\(error)")
                #expect(!error.message.contains(Self.subject), "\(error)")
            }
        }
        #expect(await world.custodian.creations.isEmpty)
    }
}
