@testable import AccessControl
import AuditTrail
import SealedEvents
import SealedSupport

/// Every JSON reader of the project: the package's one strict parser, and the readers built on it with their own
/// options (the SDK's `JSONValue(parsing:)`, the policy parser's `JSONNode`, the audit trail's `CanonicalJSON` with its
/// member-skipping object reader). They must agree with each other, and what they write must read back the same.
enum JSONTargets {
    static let parsers: @Sendable (UnsafeRawBufferPointer) -> Void = { input in
        let bytes = [UInt8](input)
        let value = try? JSONParser.parse(bytes)

        // What the parser reads, its writer writes back: compact and pretty, the same value.
        if let value {
            for pretty in [false, true] {
                let written = Array(value.jsonString(pretty: pretty).utf8)
                FuzzCheck.require(
                    (try? JSONParser.parse(written)) == value,
                    "a parsed value written \(pretty ? "pretty" : "compactly") reads back differently"
                )
            }
        }

        // The SDK's reader is the parser with the SDK's options (no byte-order mark, depth 512): the defaults.
        let sdk = try? JSONValue(parsing: bytes)
        FuzzCheck.require(sdk == value, "JSONValue(parsing:) and JSONParser disagree")

        // The policy reader skips a byte-order mark and stops at depth 64.
        let policyOptions = JSONParser.Options(maximumDepth: 64, byteOrderMark: .skip)
        let policyValue = try? JSONParser.parse(bytes, options: policyOptions)
        let node = try? JSONNode.parse(String(decoding: bytes, as: UTF8.self))
        if bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil {
            FuzzCheck.require((node == nil) == (policyValue == nil), "JSONNode and JSONParser disagree on validity")
        }

        // The audit trail's reader: a subset of the parser (depth 64, numbers within Double), the same values; its
        // canonical form reads back to itself; its object reader, building every member or skipping every one,
        // accepts exactly the objects it reads.
        let audit = try? CanonicalJSON.parse(bytes)
        if let audit {
            FuzzCheck.require(audit == value, "CanonicalJSON.parse and JSONParser read different values")
            let canonical = CanonicalJSON.encode(audit)
            guard let again = try? CanonicalJSON.parse(canonical) else {
                FuzzCheck.fail("the canonical form of a record does not read back")
            }
            FuzzCheck.require(CanonicalJSON.encode(again) == canonical, "the canonical form is not a fixed point")
        }
        // Its object reader building every member is the parser; skipping members checks only their structure
        // (brackets, string ends, number and literal syntax: the records it skips are hash-chained, so their bytes
        // are checked by the chain), so it accepts every object the parser accepts, and maybe more.
        let kept = try? CanonicalJSON.parseObject(bytes) { _ in true }
        let skipped = try? CanonicalJSON.parseObject(bytes) { _ in false }
        if case .object(let object)? = audit {
            FuzzCheck.require(kept == object, "parseObject keeping every member differs from parse")
            FuzzCheck.require(skipped?.isEmpty == true, "parseObject skipping every member refused a valid object")
        } else {
            FuzzCheck.require(kept == nil, "parseObject keeping every member accepted what parse refuses")
        }
    }
}
