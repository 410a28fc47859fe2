public import Foundation
import AccessControl
import SealedSupport

/// What `sealed aws check` compares: the account as the catalog and the grants say it should be, and as it is.
public enum AWSDrift {
    /// One event type as the platform owns it: its reader role, the domain key, and the grants in force.
    public struct ExpectedReader: Sendable, Hashable {
        public var eventType: String
        public var keyARN: String
        /// Each granted principal and the end of its grant.
        public var grants: [String: Date?]

        /// - Parameter grants: Each granted principal and its end, compared in whole seconds as trust policies
        ///   state them (``TrustPolicy/wholeSeconds(_:)``).
        public init(eventType: String, keyARN: String, grants: [String: Date?]) {
            self.eventType = eventType
            self.keyARN = keyARN
            self.grants = grants.mapValues(TrustPolicy.wholeSeconds)
        }

        /// The role's name.
        public var roleName: String { AWSNames.readerRole(eventType: eventType) }
    }

    /// A reader role as read from IAM; `nil` documents for a role that is gone.
    public struct LiveReader: Sendable, Hashable {
        public var trustPolicy: String?
        /// The inline policy ``AWSNames/readerPolicyName``, if present.
        public var readerPolicy: String?

        public init(trustPolicy: String?, readerPolicy: String?) {
            self.trustPolicy = trustPolicy
            self.readerPolicy = readerPolicy
        }
    }

    /// A domain key as read from KMS.
    public struct LiveKey: Sendable, Hashable {
        public var arn: String
        public var enabled: Bool
        public var pendingDeletion: Bool
        public var keyPolicy: String

        public init(arn: String, enabled: Bool, pendingDeletion: Bool, keyPolicy: String) {
            self.arn = arn
            self.enabled = enabled
            self.pendingDeletion = pendingDeletion
            self.keyPolicy = keyPolicy
        }
    }

    /// A difference between the account and the platform's state.
    public enum Difference: Sendable, Hashable, CustomStringConvertible {
        /// The reader role is gone (deleted by hand).
        case roleMissing(eventType: String)
        /// A grant the platform holds is not in the trust policy.
        case grantMissing(eventType: String, principal: String)
        /// The trust policy holds a platform grant the platform does not (a revoked or expired grant put back).
        case grantExtra(eventType: String, principal: String)
        /// A grant is there with another end.
        case grantEndChanged(eventType: String, principal: String, expected: Date?, live: Date?)
        /// The trust policy cannot be read as the platform writes it (a forged platform statement, bad JSON).
        case trustPolicyUnreadable(eventType: String, reason: String)
        /// The reader role's permission policy is missing or differs from the platform's.
        case readerPolicyChanged(eventType: String)
        /// The domain key is disabled.
        case keyDisabled(keyARN: String)
        /// The domain key is scheduled for deletion.
        case keyPendingDeletion(keyARN: String)
        /// The domain key's policy differs from the platform's.
        case keyPolicyChanged(keyARN: String)

        public var description: String {
            switch self {
            case .roleMissing(let type): "\(type): the reader role \(AWSNames.readerRole(eventType: type)) is missing"
            case .grantMissing(let type, let principal): "\(type): \(principal)'s grant is missing from the trust policy"
            case .grantExtra(let type, let principal): "\(type): the trust policy grants \(principal), who holds no grant"
            case .grantEndChanged(let type, let principal, let expected, let live):
                "\(type): \(principal)'s grant ends at \(Self.text(live)), not \(Self.text(expected))"
            case .trustPolicyUnreadable(let type, let reason): "\(type): the trust policy is not the platform's: \(reason)"
            case .readerPolicyChanged(let type): "\(type): the reader role's permission policy was changed"
            case .keyDisabled(let key): "\(key): the domain key is disabled"
            case .keyPendingDeletion(let key): "\(key): the domain key is scheduled for deletion"
            case .keyPolicyChanged(let key): "\(key): the domain key's policy was changed"
            }
        }

        static func text(_ date: Date?) -> String { date.map { ISO8601.format($0) } ?? "no end" }

        /// Whether this is a platform grant of `eventType`'s trust policy that is missing, extra or has another end.
        public func isGrant(of eventType: String) -> Bool {
            switch self {
            case .grantMissing(let type, _), .grantExtra(let type, _), .grantEndChanged(let type, _, _, _):
                type == eventType
            default: false
            }
        }
    }

    /// Every difference between what the platform owns and what the account holds, in a stable order: per event type
    /// (sorted), then per key (sorted). Statements the platform did not write are not differences.
    ///
    /// - Parameters:
    ///   - readers: The event types and their grants.
    ///   - liveReaders: The reader roles read from IAM, by role name; a missing entry is a missing role.
    ///   - keys: The domain keys read from KMS.
    ///   - account: The account, for the expected key policy.
    public static func differences(
        readers: [ExpectedReader],
        liveReaders: [String: LiveReader],
        keys: [LiveKey],
        account: String
    ) -> [Difference] {
        var found: [Difference] = []
        for reader in readers.sorted(by: { $0.eventType < $1.eventType }) {
            let type = reader.eventType
            guard let live = liveReaders[reader.roleName] else {
                found.append(.roleMissing(eventType: type))
                continue
            }
            let expectedPolicy = AWSPolicies.readerPolicy(keyARN: reader.keyARN, eventType: type)
            if live.readerPolicy.map({ !sameDocument($0, expectedPolicy) }) ?? true {
                found.append(.readerPolicyChanged(eventType: type))
            }
            let grants: [String: Date?]
            do {
                grants = try TrustPolicy(parsing: live.trustPolicy ?? "{}").grants
            } catch {
                found.append(.trustPolicyUnreadable(eventType: type, reason: error.message))
                continue
            }
            for principal in Set(reader.grants.keys).union(grants.keys).sorted() {
                switch (reader.grants[principal], grants[principal]) {
                case (.some, nil): found.append(.grantMissing(eventType: type, principal: principal))
                case (nil, .some): found.append(.grantExtra(eventType: type, principal: principal))
                case (.some(let expected), .some(let live)) where expected != live:
                    found.append(.grantEndChanged(eventType: type, principal: principal, expected: expected, live: live))
                default: break
                }
            }
        }
        let keyPolicy = AWSPolicies.keyPolicy(account: account)
        for key in keys.sorted(by: { $0.arn < $1.arn }) {
            if key.pendingDeletion {
                found.append(.keyPendingDeletion(keyARN: key.arn))
            } else if !key.enabled {
                found.append(.keyDisabled(keyARN: key.arn))
            }
            if !sameDocument(key.keyPolicy, keyPolicy) { found.append(.keyPolicyChanged(keyARN: key.arn)) }
        }
        return found
    }

    /// Who can actually decrypt events of a type through its reader role, by the live documents evaluated with the
    /// platform's own policy evaluator: every principal a statement of the trust policy names (the platform's grants
    /// and foreign statements alike) that the trust policy lets assume the role at `date`, provided the role's
    /// permission policy and the key policy let the role decrypt with that `eventType` — otherwise nobody.
    ///
    /// A principal's own identity policies are not known here and are taken to allow `sts:AssumeRole`; an account root
    /// (`arn:aws:iam::ACCOUNT:root`) stands for every principal of that account whose policies do.
    public static func effectiveReaders(
        of reader: ExpectedReader,
        roleARN: String,
        live: LiveReader,
        keyPolicy: String,
        at date: Date
    ) -> [String] {
        guard let trustText = live.trustPolicy, let readerText = live.readerPolicy,
            let trust = try? PolicyDocument(parsing: trustText, kind: .trust),
            let permissions = try? PolicyDocument(parsing: readerText),
            let key = try? PolicyDocument(parsing: keyPolicy, kind: .resource)
        else { return [] }
        let account = CallerIdentity.arnFields(roleARN).count > 4 ? String(CallerIdentity.arnFields(roleARN)[4]) : ""
        let session = "arn:aws:sts::\(account):assumed-role/\(AWSNames.readerRole(eventType: reader.eventType))/check"
        let decrypts = PolicyEvaluator.evaluate(
            EvaluationRequest(
                principal: CallerIdentity(arn: session, account: account, roleArn: roleARN),
                action: "kms:Decrypt",
                resource: reader.keyARN,
                context: RequestContext(encryptionContext: ["eventType": reader.eventType], currentTime: date)
            ),
            resourcePolicy: key,
            identityPolicies: [permissions]
        ).isAllowed
        guard decrypts, let mayAssume = try? PolicyDocument(parsing: allowAssumeRole) else { return [] }
        return namedPrincipals(trustText).filter { principal in
            PolicyEvaluator.evaluateAssumeRole(
                caller: CallerIdentity(arn: principal),
                roleArn: roleARN,
                trustPolicy: trust,
                identityPolicies: [mayAssume],
                context: RequestContext(currentTime: date)
            ).isAllowed
        }
    }

    static let allowAssumeRole =
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#

    /// The `AWS` principals a policy's statements name, sorted, each once.
    static func namedPrincipals(_ text: String) -> [String] {
        guard let document = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        let statements = document["Statement"]?.arrayValue ?? document["Statement"].map { [$0] } ?? []
        var names: Set<String> = []
        for statement in statements {
            switch statement["Principal"]?["AWS"] {
            case .string(let name)?: names.insert(name)
            case .array(let list)?: names.formUnion(list.compactMap(\.stringValue))
            default: break
            }
        }
        return names.sorted()
    }

    /// The same JSON document, whatever its spacing and member order (IAM and KMS give documents back reformatted).
    public static func sameDocument(_ a: String, _ b: String) -> Bool {
        guard let left = try? JSONSerialization.jsonObject(with: Data(a.utf8)) as? NSObject,
            let right = try? JSONSerialization.jsonObject(with: Data(b.utf8)) as? NSObject
        else { return false }
        return left.isEqual(right)
    }
}
