import AuditTrail
import Foundation
import Hummingbird
import Subjects
import WireShapes

import enum SealedSupport.ISO8601

// MARK: Data subjects

extension PlatformRoutes {
    /// `POST /v1/subjects:resolve|erase|show|lift-fence`. The subject id is read from the body and handed to the
    /// subject service, never recorded (``AuditRecorder/platformParameters(path:body:)`` keeps only the domain, the
    /// event type and the reason) nor repeated: answers and audit records name the subject by its pseudonyms.
    func registerSubjects(in v1: RouterGroup<AuthenticatedContext>) {
        let subjects = platform.subjects
        v1.on(.resolveSubject, input: ResolveSubjectInput.self) { input, _, context in
            let service = subjects
            let key = try await service.resolve(
                subjectID: input.subjectId,
                eventType: input.eventType,
                by: context.principal.arn
            )
            context.auditNote?.setResponseElements(
                .object(["branchKeyId": .string(key.branchKeyID), "pseudonym": .string(key.pseudonym)])
            )
            return try PlatformJSON.response(SubjectKeyOutput(key, keyStore: service.custodian.keyStore))
        }
        v1.on(.eraseSubject, input: EraseSubjectInput.self) { input, _, context in
            let receipts = try await subjects.erase(
                subjectID: input.subjectId,
                domain: input.domain,
                reason: input.reason,
                by: context.principal.arn
            )
            // The one record of the erasure: the pseudonyms, the counts (the reason is in its parameters).
            context.auditNote?.setResponseElements(
                .object([
                    "receipts": .array(
                        receipts.map { receipt in
                            .object([
                                "domain": .string(receipt.domain), "pseudonym": .string(receipt.pseudonym),
                                "erasedAt": .string(ISO8601.format(receipt.erasureDate)),
                                "keysDestroyed": .number(JSONNumber(receipt.keysDestroyed)),
                            ])
                        }
                    ),
                    "keysDestroyed": .number(JSONNumber(receipts.reduce(0) { $0 + $1.keysDestroyed })),
                ])
            )
            return try PlatformJSON.response(
                ErasureOutput(
                    receipts: receipts.map(ErasureReceiptOutput.init),
                    auditRecordId: context.auditNote?.eventID
                )
            )
        }
        v1.on(.describeSubject, input: ShowSubjectInput.self) { input, _, context in
            let statuses = try await subjects.show(
                subjectID: input.subjectId,
                domain: input.domain,
                by: context.principal.arn
            )
            return try PlatformJSON.response(SubjectList(subjects: statuses.map(SubjectOutput.init)))
        }
        v1.on(.liftSubjectFence, input: LiftSubjectFenceInput.self) { input, _, context in
            let status = try await subjects.liftFence(
                subjectID: input.subjectId,
                domain: input.domain,
                reason: input.reason,
                by: context.principal.arn
            )
            context.auditNote?.setResponseElements(
                .object(["domain": .string(status.domain), "pseudonym": .string(status.pseudonym)])
            )
            return try PlatformJSON.response(SubjectOutput(status))
        }
    }
}

extension SubjectKeyOutput {
    init(_ key: SubjectKey, keyStore: KeyStoreName) {
        self.init(
            branchKeyId: key.branchKeyID,
            pseudonym: key.pseudonym,
            domain: key.domain,
            eventType: key.eventType,
            kmsKeyArn: key.kmsKeyARN,
            keyStore: KeyStoreOutput(tableName: keyStore.tableName, logicalKeyStoreName: keyStore.logicalKeyStoreName),
            createDate: key.creationDate
        )
    }
}

extension ErasureReceiptOutput {
    init(_ receipt: ErasureReceipt) {
        self.init(
            domain: receipt.domain,
            pseudonym: receipt.pseudonym,
            erasedAt: receipt.erasureDate,
            keysDestroyed: receipt.keysDestroyed
        )
    }
}

extension SubjectOutput {
    init(_ status: SubjectStatus) {
        self.init(
            domain: status.domain,
            pseudonym: status.pseudonym,
            keys: status.keys.map {
                SubjectBranchKeyOutput(
                    eventType: $0.eventType,
                    branchKeyId: $0.branchKeyID,
                    createDate: $0.creationDate
                )
            },
            erasure: status.fence.map { fence in
                SubjectErasureOutput(
                    erasedAt: fence.erasureDate,
                    reason: fence.reason,
                    erasedBy: fence.principal,
                    keysDestroyed: fence.keysDestroyed,
                    fenced: fence.isStanding,
                    liftedAt: fence.lift?.date,
                    liftReason: fence.lift?.reason,
                    liftedBy: fence.lift?.principal
                )
            }
        )
    }
}
