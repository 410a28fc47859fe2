import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SealedServerTesting
import Server
import Testing
import WireShapes

/// The OpenAPI document of `/v1` and the router agree: the document names exactly the declared routes, with their
/// operation names, every reference in it resolves, and the server serves the committed document unsigned.
@Suite struct OpenAPIContractTests {
    /// The committed document, parsed.
    static func document() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes))
        return try #require(value as? [String: Any], "the document is a JSON object")
    }

    /// Every operation of the document: `METHOD /path` to its object.
    static func operations(_ document: [String: Any]) throws -> [String: [String: Any]] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations: [String: [String: Any]] = [:]
        for (path, item) in paths {
            for (method, operation) in item where ["get", "put", "post", "delete", "patch"].contains(method) {
                operations["\(method.uppercased()) \(path)"] = try #require(operation as? [String: Any])
            }
        }
        return operations
    }

    /// `METHOD /v1/path` with `{name}` parameters, as OpenAPI spells a declared route's `:name`.
    static func key(_ route: PlatformRoute) -> String {
        let segments = route.pattern.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
        return "\(route.method) /v1/\(segments.joined(separator: "/"))"
    }

    @Test func theDocumentDescribesExactlyTheDeclaredRoutes() throws {
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.1.0")
        let operations = try Self.operations(document)
        let declared = PlatformRoute.all + [.getOpenAPIDocument]
        let expected = Dictionary(uniqueKeysWithValues: declared.map { (Self.key($0), $0.operation) })
        let undocumented = Set(expected.keys).subtracting(operations.keys)
        let undeclared = Set(operations.keys).subtracting(expected.keys)
        #expect(undocumented.isEmpty, "routes the document lacks: \(undocumented.sorted())")
        #expect(undeclared.isEmpty, "operations no route declares: \(undeclared.sorted())")
        for (key, operation) in operations {
            #expect(operation["operationId"] as? String == expected[key], "\(key): operationId")
        }
    }

    @Test func everyOperationIsSignedButTheDocumentItself() throws {
        let document = try Self.document()
        let global = try #require(document["security"] as? [[String: [String]]])
        #expect(global == [["sigv4": []]])
        let schemes = try #require(
            (document["components"] as? [String: Any])?["securitySchemes"] as? [String: [String: Any]]
        )
        #expect(schemes["sigv4"]?["type"] as? String == "apiKey")
        #expect(schemes["sigv4"]?["name"] as? String == "Authorization")
        for (key, operation) in try Self.operations(document) {
            let security = operation["security"] as? [Any]
            if key == Self.key(.getOpenAPIDocument) {
                #expect(security?.isEmpty == true, "\(key) is unsigned")
            } else {
                #expect(security == nil, "\(key) keeps the document's SigV4 requirement")
            }
        }
    }

    @Test func everyReferenceResolves() throws {
        let document = try Self.document()
        var references: [String] = []
        Self.collectReferences(document, into: &references)
        #expect(references.count > 100)
        for reference in Set(references) {
            #expect(Self.resolve(reference, in: document) != nil, "\(reference) does not resolve")
        }
    }

    /// Every link (what an answer's values may be used for next) names an operation and parameters it has.
    @Test func everyLinkNamesAnOperationAndItsParameters() throws {
        let document = try Self.document()
        let operations = try Self.operations(document)
        let byId = Dictionary(uniqueKeysWithValues: operations.values.compactMap { operation in
            (operation["operationId"] as? String).map { ($0, operation) }
        })
        var count = 0
        for (key, operation) in operations {
            let responses = operation["responses"] as? [String: [String: Any]] ?? [:]
            for (_, response) in responses {
                for (name, link) in response["links"] as? [String: [String: Any]] ?? [:] {
                    count += 1
                    let target = try #require(link["operationId"] as? String, "\(key) link \(name)")
                    let parameters = (byId[target]?["parameters"] as? [[String: Any]] ?? []).compactMap { parameter in
                        let resolved = (parameter["$ref"] as? String).flatMap { Self.resolve($0, in: document) }
                        return ((resolved ?? parameter) as? [String: Any])?["name"] as? String
                    }
                    #expect(byId[target] != nil, "\(key) links to \(target), which is no operation")
                    for parameter in (link["parameters"] as? [String: String] ?? [:]).keys {
                        #expect(parameters.contains(parameter), "\(key) link \(name): \(target) has no \(parameter)")
                    }
                }
            }
        }
        #expect(count > 0)
    }

    /// Each `{name}` of a path is a declared path parameter, and each declared path parameter is in the path.
    @Test func pathParametersMatchTheirPaths() throws {
        let document = try Self.document()
        for (key, operation) in try Self.operations(document) {
            let path = key.split(separator: " ")[1]
            let inPath = Set(
                path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            )
            let declared = (operation["parameters"] as? [[String: Any]] ?? []).compactMap { parameter in
                let resolved = (parameter["$ref"] as? String).flatMap { Self.resolve($0, in: document) } ?? parameter
                let object = resolved as? [String: Any]
                return object?["in"] as? String == "path" ? object?["name"] as? String : nil
            }
            #expect(Set(declared) == inPath, "\(key): path parameters \(declared.sorted()) for \(inPath.sorted())")
        }
    }

    /// A refusal is always the error shape the CLI reads (`{"__type", "message"}`), whatever its media type.
    @Test func everyRefusalHasTheErrorShape() throws {
        let document = try Self.document()
        for (key, operation) in try Self.operations(document) {
            let responses = try #require(operation["responses"] as? [String: [String: Any]])
            #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(key) documents its success")
            for (status, response) in responses where !status.hasPrefix("2") {
                let resolved = (response["$ref"] as? String).flatMap { Self.resolve($0, in: document) } ?? response
                let content = try #require((resolved as? [String: Any])?["content"] as? [String: [String: Any]])
                #expect(!content.isEmpty, "\(key) \(status) has a body")
                for (type, media) in content {
                    #expect(
                        (media["schema"] as? [String: String]) == ["$ref": "#/components/schemas/Error"],
                        "\(key) \(status) \(type) is the error shape"
                    )
                }
            }
        }
    }

    @Test func theServerServesTheCommittedDocumentUnsigned() async throws {
        let committed = try Data(
            contentsOf: URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Sources/Server/OpenAPI/openapi.json")
        )
        #expect(Data(OpenAPIDocument.bytes) == committed)
        let fixture = try await PlatformFixture()
        try await fixture.test { client in
            let response = try await client.execute(uri: "/v1/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(Data(response.body.readableBytesView) == committed)
        }
    }

    static func collectReferences(_ value: Any, into references: inout [String]) {
        if let object = value as? [String: Any] {
            if let reference = object["$ref"] as? String { references.append(reference) }
            for member in object.values { collectReferences(member, into: &references) }
        } else if let array = value as? [Any] {
            for element in array { collectReferences(element, into: &references) }
        }
    }

    /// The value a local reference (`#/a/b~1c`) points at, or `nil`.
    static func resolve(_ reference: String, in document: [String: Any]) -> Any? {
        guard reference.hasPrefix("#/") else { return nil }
        var value: Any = document
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let name = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let object = value as? [String: Any], let member = object[name] else { return nil }
            value = member
        }
        return value
    }
}
