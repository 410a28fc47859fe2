/// `GET /v1/aws/drift` and `POST /v1/aws/drift/fix` (AWS mode): the differences between the governed account and the
/// platform, and who can decrypt each event type by the live documents.
public struct AWSDriftReport: Codable, Sendable, Hashable {
    /// Each difference, in words (`payments.card.captured: the reader role … is missing`).
    public var differences: [String]
    /// Event type → the principals that can decrypt it now.
    public var readers: [String: [String]]

    public init(differences: [String], readers: [String: [String]]) {
        self.differences = differences
        self.readers = readers
    }

    enum CodingKeys: String, CodingKey {
        case differences = "Differences"
        case readers = "Readers"
    }
}
