public import SealedEvents
public import WireShapes

// The data-subject calls (`/v1/subjects:…`). The subject id goes in the request body only; answers name the subject
// by its pseudonym in each domain.

extension PlatformClient {
    /// The branch key of `subjectID` for `eventType`, created on first use (a producer of the event type's domain).
    ///
    /// - Throws: ``PlatformError`` `SubjectErasedException` (410) when the subject was erased in the domain and its
    ///   fence stands; `AccessDenied` (403) without `catalog:ResolveSubject` on the event type.
    public func resolveSubject(_ subjectID: String, eventType: String) async throws -> SubjectKeyOutput {
        try await send(
            .resolveSubject,
            input: ResolveSubjectInput(eventType: eventType, subjectId: subjectID),
            as: SubjectKeyOutput.self
        ).output
    }

    /// Erases `subjectID` in `domain`, or (`nil`) in every domain the caller may erase in: destroys its branch keys
    /// and fences it. Erasing again finishes a failed erasure and repeats nothing.
    public func eraseSubject(
        _ subjectID: String,
        domain: String? = nil,
        reason: String
    ) async throws
        -> PlatformAnswer<ErasureOutput>
    {
        try await send(
            .eraseSubject,
            input: EraseSubjectInput(subjectId: subjectID, domain: domain, reason: reason),
            as: ErasureOutput.self
        )
    }

    /// The subject in `domain`, or (`nil`) wherever the caller may look and it has keys or an erasure.
    public func showSubject(_ subjectID: String, domain: String? = nil) async throws -> PlatformAnswer<SubjectList> {
        try await send(
            .describeSubject,
            input: ShowSubjectInput(subjectId: subjectID, domain: domain),
            as: SubjectList.self
        )
    }

    /// Lifts the erasure fence of `subjectID` in `domain`, so its keys may be created again (new keys).
    public func liftSubjectFence(
        _ subjectID: String,
        domain: String,
        reason: String
    ) async throws
        -> PlatformAnswer<SubjectOutput>
    {
        try await send(
            .liftSubjectFence,
            input: LiftSubjectFenceInput(subjectId: subjectID, domain: domain, reason: reason),
            as: SubjectOutput.self
        )
    }
}

/// The platform resolves a producer's data subjects to their branch keys: a ``PlatformClient`` signed with the
/// producer's credentials is the ``SealedEvents/SubjectKeyResolver`` of its `Sealer`.
extension PlatformClient: SubjectKeyResolver {
    /// `POST /v1/subjects:resolve`, with the platform's refusals as the SDK's errors: `SubjectErasedException` is
    /// `subjectErased`, `AccessDenied` is `accessDenied`, anything else `keyServiceFailure`.
    public func subjectKey(subjectID: String, eventType: String) async throws -> SubjectKey {
        do {
            let key = try await resolveSubject(subjectID, eventType: eventType)
            return SubjectKey(branchKeyID: key.branchKeyId, keyStoreTable: key.keyStore.tableName)
        } catch let error as PlatformError {
            switch error.code {
            case "SubjectErasedException":
                throw SealedEventsError(.subjectErased, "event type \(eventType): \(error.message)")
            case "AccessDenied", "AccessDeniedException":
                throw SealedEventsError(
                    .accessDenied,
                    "the platform refused to resolve a subject of \(eventType): \(error.message)"
                )
            default:
                throw SealedEventsError(.keyServiceFailure, "the platform could not resolve the subject: \(error)")
            }
        }
    }
}
