import Foundation
import SealedSupport

/// The query protocol and the XML of IAM's answers.
extension IAMClient {
    /// Sends `action` and decodes the answer's root element with `decode`, which throws ``ClientError``
    /// `malformedResponse` for a missing element.
    func call<Result>(
        _ action: String,
        _ parameters: [(String, String)],
        decode: (XMLTree) throws -> Result
    ) async throws -> Result {
        let form = [(name: "Action", value: action), (name: "Version", value: IAMProtocol.version)]
            + parameters.map { (name: $0.0, value: $0.1) }
        return try await transport.send(
            operation: action,
            body: Array(STSForm.encode(form).utf8),
            headers: [(name: "Content-Type", value: STSProtocol.contentType)]
        ) { response in
            guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
            guard let root = XMLTree.parse(response.body), root.name == "\(action)Response" else {
                throw ClientError(
                    .malformedResponse,
                    "the \(action) response (HTTP \(response.status), \(response.body.count) bytes) is not an IAM answer"
                )
            }
            return try decode(root)
        }
    }

    /// Sends an action whose answer holds nothing but request metadata.
    func perform(_ action: String, _ parameters: [(String, String)]) async throws {
        try await call(action, parameters) { _ in () }
    }

    /// Every item of a paginated list: follows `Marker` while `IsTruncated` is `true`.
    func pages<Item>(
        _ action: String,
        _ parameters: [(String, String)],
        items: (XMLTree) throws -> [Item]
    ) async throws -> [Item] {
        var all: [Item] = []
        var marker: String?
        repeat {
            let page = parameters + (marker.map { [("Marker", $0)] } ?? [])
            let (items, next): ([Item], String?) = try await call(action, page) { root in
                guard let result = root.child("\(action)Result") else {
                    throw ClientError(.malformedResponse, "the \(action) response has no \(action)Result")
                }
                let truncated = result.child("IsTruncated")?.text == "true"
                let next = truncated ? result.child("Marker")?.text : nil
                if truncated, next?.isEmpty ?? true {
                    throw ClientError(.malformedResponse, "the \(action) response is truncated without a Marker")
                }
                return (try items(result), next)
            }
            all += items
            marker = next
        } while marker != nil
        return all
    }

    static func error(from response: RawResponse) -> IAMError { ErrorBody.serviceError(response, unknown: .unknownError) }

    /// `Tags.member.N.Key` / `Tags.member.N.Value`, sorted by key.
    static func tagParameters(_ tags: [String: String]) -> [(String, String)] {
        tags.sorted { $0.key < $1.key }.enumerated().flatMap { index, tag in
            [("Tags.member.\(index + 1).Key", tag.key), ("Tags.member.\(index + 1).Value", tag.value)]
        }
    }

    // MARK: - Decoding

    static func members(_ list: XMLTree?) throws -> [XMLTree] {
        (list?.children ?? []).filter { $0.name == "member" }
    }

    static func required(_ element: XMLTree?, _ name: String) throws -> String {
        guard let text = element?.child(name)?.text, !text.isEmpty else {
            throw ClientError(.malformedResponse, "an IAM answer lacks <\(name)>")
        }
        return text
    }

    /// A policy document as IAM answers it: percent-encoded JSON (moto may send it as is).
    static func document(_ element: XMLTree?) throws -> String {
        guard let text = element?.text.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw ClientError(.malformedResponse, "an IAM answer lacks its policy document")
        }
        if text.hasPrefix("{") { return text }
        guard let decoded = PercentEncoding.decodeStrictly(text) else {
            throw ClientError(.malformedResponse, "an IAM policy document is not percent-encoded JSON")
        }
        return decoded
    }

    static func role(_ element: XMLTree?) throws -> IAMRole {
        guard let element else { throw ClientError(.malformedResponse, "an IAM answer lacks its <Role>") }
        var tags: [String: String] = [:]
        for tag in try members(element.child("Tags")) {
            tags[try required(tag, "Key")] = tag.child("Value")?.text ?? ""
        }
        return IAMRole(
            roleName: try required(element, "RoleName"),
            roleId: try required(element, "RoleId"),
            arn: try required(element, "Arn"),
            path: element.child("Path")?.text ?? "/",
            createDate: element.child("CreateDate").flatMap { ISO8601.parse($0.text) },
            description: element.child("Description")?.text,
            maxSessionDuration: element.child("MaxSessionDuration").flatMap { Int($0.text) },
            assumeRolePolicyDocument: try element.child("AssumeRolePolicyDocument").map { try document($0) },
            tags: tags
        )
    }

    static func policy(_ element: XMLTree?) throws -> IAMManagedPolicy {
        IAMManagedPolicy(
            policyName: try required(element, "PolicyName"),
            policyId: try required(element, "PolicyId"),
            arn: try required(element, "Arn"),
            path: element?.child("Path")?.text ?? "/",
            defaultVersionId: try required(element, "DefaultVersionId"),
            attachmentCount: element?.child("AttachmentCount").flatMap { Int($0.text) }
        )
    }

    static func version(_ element: XMLTree?) throws -> IAMPolicyVersion {
        IAMPolicyVersion(
            versionId: try required(element, "VersionId"),
            isDefaultVersion: element?.child("IsDefaultVersion")?.text == "true",
            document: try element?.child("Document").map { try document($0) },
            createDate: element?.child("CreateDate").flatMap { ISO8601.parse($0.text) }
        )
    }
}
