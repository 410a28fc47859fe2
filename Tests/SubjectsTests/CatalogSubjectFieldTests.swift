import AccessControl
import Catalog
import Foundation
import Testing

/// The catalog's side of subjects: which subject fields it takes, and the policy statements they bring.
struct CatalogSubjectFieldTests {
    typealias World = SubjectServiceTests.World
    static let admin = SubjectServiceTests.admin

    @Test func aSubjectFieldIsAPointerIntoTheSealedPartOfASealedType() async throws {
        let world = try await World()
        let refused: [(EventCatalog.EventTypeSpecification, String)] = [
            (.init(name: "payments.a", domain: "payments", subjectField: "customer/id"), "not a JSON Pointer"),
            (.init(name: "payments.b", domain: "payments", subjectField: "/"), "not a JSON Pointer"),
            (.init(name: "payments.c", domain: "payments", subjectField: "/x~2"), "not a JSON Pointer"),
            (
                .init(name: "payments.d", domain: "payments", classification: .internal, subjectField: "/customer/id"),
                "Only confidential and restricted"
            ),
            (
                .init(name: "payments.e", domain: "payments", sensitiveFields: ["/card"], subjectField: "/customer/id"),
                "must be sealed"
            ),
            (
                .init(
                    name: "payments.f",
                    domain: "payments",
                    sensitiveFields: ["/customer/id/x"],
                    subjectField: "/customer/id"
                ),
                "must be sealed"
            ),
        ]
        for (spec, message) in refused {
            do {
                _ = try await world.catalog.createEventType(spec, by: Self.admin)
                Issue.record("\(spec.name) was created")
            } catch let error as AccessControlError {
                #expect(error.code == .validationError)
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        for spec in [
            EventCatalog.EventTypeSpecification(name: "payments.g", domain: "payments", subjectField: "/a~1b/~0c"),
            .init(
                name: "payments.h",
                domain: "payments",
                sensitiveFields: ["/customer/id"],
                subjectField: "/customer/id"
            ),
            .init(
                name: "payments.i",
                domain: "payments",
                sensitiveFields: ["/customer"],
                subjectField: "/customer/id/0"
            ),
        ] {
            let type = try await world.catalog.createEventType(spec, by: Self.admin)
            #expect(type.subjectField == spec.subjectField)
        }
    }

    @Test func subjectTypesAddTheBranchKeyStatementsToReadersAndProducers() async throws {
        let world = try await World()
        let keyARN = "arn:aws:kms:us-east-1:000000000000:key/payments-key"
        let table = "arn:aws:dynamodb:us-east-1:000000000000:table/sealed-branch-keys"
        let subjectReader = try await world.identities.role(named: "reader-payments.order.placed", by: .platform)
        let reader = try #require(subjectReader.policies["read-payments.order.placed"])
        #expect(
            reader.contains(#""kms:EncryptionContext:aws-crypto-ec:eventType":"payments.order.placed""#),
            "\(reader)"
        )
        #expect(reader.contains(#""Action":"dynamodb:GetItem","Effect":"Allow","Resource":"\#(table)""#), "\(reader)")
        #expect(reader.contains(#""kms:EncryptionContext:eventType":"payments.order.placed""#))
        let plainReader = try await world.identities.role(named: "reader-payments.rate.changed", by: .platform)
        #expect(plainReader.policies["read-payments.rate.changed"]?.contains("dynamodb") == false)

        let producer = try #require(world.identities.team(named: "payments")?.policies["produce-payments"])
        #expect(producer.contains(#""kms:EncryptionContext:aws-crypto-ec:domain":"payments""#), "\(producer)")
        #expect(producer.contains(table))
        #expect(producer.contains(#""Resource":"arn:sealed:catalog::000000000000:domain/payments/event-type/*""#))
        #expect(producer.contains("catalog:EraseSubject") && producer.contains(keyARN))

        let checkout = world.user("checkout")
        let on = "arn:sealed:catalog::000000000000:domain/payments"
        #expect(
            world.identities.isAllowed(checkout, "catalog:ResolveSubject", on: on + "/event-type/payments.order.placed")
        )
        #expect(world.identities.isAllowed(checkout, "catalog:EraseSubject", on: on))
        #expect(
            !world.identities.isAllowed(
                checkout,
                "catalog:EraseSubject",
                on: "arn:sealed:catalog::000000000000:domain/shipping"
            )
        )
    }

    @Test func policiesOfAnOlderCatalogAreRefreshedOnceAtStart() async throws {
        let world = try await World()
        // As an older version wrote them: no statements for subject keys.
        let old = #"{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
        try await world.identities.putRolePolicy(
            "reader-payments.order.placed",
            name: "read-payments.order.placed",
            document: old,
            by: .platform
        )
        try await world.identities.putTeamPolicy("shipping", name: "produce-shipping", document: old, by: .platform)
        #expect(try await world.catalog.refreshPolicies() == 2)
        let role = try await world.identities.role(named: "reader-payments.order.placed", by: .platform)
        #expect(role.policies["read-payments.order.placed"]?.contains("aws-crypto-ec:eventType") == true)
        #expect(
            world.identities.team(named: "shipping")?.policies["produce-shipping"]?.contains("ResolveSubject") == true
        )
        #expect(try await world.catalog.refreshPolicies() == 0)
    }
}
