internal import Foundation
internal import SealedSupport

/// An error from the Sealed Events SDK.
///
/// Errors compare by ``code`` alone. The ``reason`` never holds plaintext, key material or secrets: a failed
/// open says which check failed (binding, encryption context, key) but never echoes sealed content.
///
/// When a consumer lacks access to an event type, the error's code is ``Code/accessDenied`` and
/// ``accessDenied`` names the key, the event type and the command that asks for access:
///
/// ```swift
/// do {
///     let opened = try await opener.open(envelope)
/// } catch let error where error.code == .accessDenied {
///     print(error.accessDenied!.requestCommand)  // sealed access request payments.card.captured --justification "…"
/// }
/// ```
public struct SealedEventsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Text that is not JSON (RFC 8259), nests too deeply, or holds a string Swift cannot represent.
        public static let invalidJSON = Code("invalidJSON")
        /// A JSON Pointer (RFC 6901) that is not well formed.
        public static let invalidPointer = Code("invalidPointer")
        /// A JSON Pointer that names no value in the document.
        public static let pointerNotFound = Code("pointerNotFound")
        /// An envelope (or CloudEvent) that lacks a required member or has one of the wrong type.
        public static let malformedEnvelope = Code("malformedEnvelope")
        /// The envelope and its sealed payload disagree: the event id, the field pointers, the encryption
        /// context, the key or the algorithm suite do not match, or a sealed place lost its marker.
        public static let bindingMismatch = Code("bindingMismatch")
        /// The consumer (or producer) may not use the event type's key; see ``SealedEventsError/accessDenied``.
        public static let accessDenied = Code("accessDenied")
        /// The event's data subject was erased: the subject's key is destroyed, so its events can never be opened
        /// again (and new ones are not sealed until the owning team lifts the erasure fence).
        public static let subjectErased = Code("subjectErased")
        /// The sealed payload failed authentication: it was changed or corrupted.
        public static let authenticationFailed = Code("authenticationFailed")
        /// An encryption format other than `aws-esdk`, or a sealing scope this SDK does not know.
        public static let unsupportedFormat = Code("unsupportedFormat")
        /// An algorithm suite other than 0x0478 and 0x0578.
        public static let unsupportedAlgorithmSuite = Code("unsupportedAlgorithmSuite")
        /// The key service (KMS, STS) could not be reached or refused for a reason other than access (throttling,
        /// a disabled key, a network failure).
        public static let keyServiceFailure = Code("keyServiceFailure")
        /// The envelope carries no `metaData.encryption` block, so there is nothing to open.
        public static let notSealed = Code("notSealed")
        /// The envelope is already sealed.
        public static let alreadySealed = Code("alreadySealed")
        /// A caller's argument or configuration is invalid (an event of another type than the descriptor, a
        /// cache limit out of range, overlapping field pointers, a keyring that used another key).
        public static let invalidArgument = Code("invalidArgument")
    }

    /// What a consumer without access needs to know to ask for it.
    public struct AccessDenied: Hashable, Sendable, CustomStringConvertible {
        /// The key the event is sealed with.
        public let keyArn: String
        /// The event type access is missing for.
        public let eventType: String
        /// Which service refused, e.g. `KMS AccessDeniedException`, `STS AccessDenied`, or `no key in the
        /// keyring` when the keyring holds no key the message names.
        public let refusal: String

        public init(keyArn: String, eventType: String, refusal: String) {
            self.keyArn = keyArn
            self.eventType = eventType
            self.refusal = refusal
        }

        /// The command that asks the owning team for access, ready to copy (fill in the justification).
        public var requestCommand: String {
            "sealed access request \(Self.shellWord(eventType)) --justification \"…\""
        }

        public var description: String {
            "no access to event type \(eventType) (key \(keyArn); \(refusal)); request it with: \(requestCommand)"
        }

        /// Quotes a word for a POSIX shell unless it only holds characters that need no quoting.
        static func shellWord(_ word: String) -> String {
            let plain =
                !word.isEmpty
                && word.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                        || "._-:/".unicodeScalars.contains($0)
                }
            guard !plain else { return word }
            var quoted = "'"
            for scalar in word.unicodeScalars {  // scalars: a `'` with a combining mark after it is still a `'`
                if scalar == "'" { quoted += #"'\''"# } else { quoted.unicodeScalars.append(scalar) }
            }
            return quoted + "'"
        }
    }

    /// The error's code; the only part that takes part in equality.
    public let code: Code
    /// A human-readable reason, free of plaintext and secrets.
    public let reason: String
    /// For ``Code/accessDenied``: the key, the event type and the request command.
    public let accessDenied: AccessDenied?

    public init(_ code: Code, _ reason: String, accessDenied: AccessDenied? = nil) {
        self.code = code
        self.reason = reason
        self.accessDenied = accessDenied
    }

    public var description: String {
        if let accessDenied { return "\(code): \(reason): \(accessDenied)" }
        return "\(code): \(reason)"
    }

    static func malformed(_ reason: String) -> Self { .init(.malformedEnvelope, reason) }
    static func binding(_ reason: String) -> Self { .init(.bindingMismatch, reason) }
    static func invalidArgument(_ reason: String) -> Self { .init(.invalidArgument, reason) }
}

extension SealedEventsError: CodedError {}
