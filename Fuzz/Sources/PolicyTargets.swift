import AccessControl
import Foundation
import SealedSupport

/// The IAM policy parser and evaluator.
///
/// Input: a kind byte, then NUL-separated request fields (action, resource, caller ARN, source IP, an encryption
/// context key and value, a time in seconds), then the policy's JSON text.
enum PolicyTargets {
    static let parseAndEvaluate: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        var reader = FuzzReader(input)
        let kind: PolicyKind = [.identity, .resource, .trust][Int(reader.byte() % 3)]
        let action = reader.text()
        let resource = reader.text()
        let caller = reader.text()
        let sourceIP = reader.text()
        let contextKey = reader.text()
        let contextValue = reader.text()
        let seconds = Double(reader.text()) ?? 1_700_000_000
        let text = String(decoding: reader.rest(), as: UTF8.self)

        let request = EvaluationRequest(
            principal: CallerIdentity(arn: caller),
            action: action,
            resource: resource,
            context: RequestContext(
                encryptionContext: contextKey.isEmpty ? nil : [contextKey: contextValue],
                sourceIP: sourceIP.isEmpty ? nil : sourceIP,
                currentTime: Date(timeIntervalSince1970: seconds.isFinite ? seconds : 0)
            )
        )
        let original = try? PolicyDocument(parsing: text, kind: kind)
        let decision = original.map { evaluate(request, $0) }
        if let original {
            FuzzCheck.require(evaluate(request, original) == decision, "one policy decides one request two ways")
        }

        // The same JSON written compactly and pretty is the same policy: accepted or refused alike, and deciding
        // the request alike.
        guard let value = try? JSONParser.parse(Array(text.utf8)) else { return }
        for rewritten in [value.jsonString(), value.jsonString(pretty: true)] {
            let again = try? PolicyDocument(parsing: rewritten, kind: kind)
            FuzzCheck.require(
                (again == nil) == (original == nil),
                "the policy is \(original == nil ? "refused" : "accepted") but its rewritten JSON is "
                    + "\(again == nil ? "refused" : "accepted")"
            )
            if let again {
                FuzzCheck.require(evaluate(request, again) == decision, "the rewritten policy decides otherwise")
            }
        }
    }

    /// The decision as its kind and the deciding statement's place (positions differ between layouts).
    struct Outcome: Equatable {
        var allowed: Bool
        var statement: Int?
    }

    static func evaluate(_ request: EvaluationRequest, _ policy: PolicyDocument) -> Outcome {
        let decision: Decision =
            switch policy.kind {
            case .identity: PolicyEvaluator.evaluate(request, identityPolicies: [policy])
            case .resource, .trust: PolicyEvaluator.evaluate(request, resourcePolicy: policy, identityPolicies: [])
            }
        return Outcome(allowed: decision.isAllowed, statement: decision.statement?.index)
    }
}
