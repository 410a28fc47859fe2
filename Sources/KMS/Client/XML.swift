internal import Foundation

#if canImport(FoundationXML)
    internal import FoundationXML
#endif

/// A parsed XML element: enough of a tree for the small documents of the STS query protocol and of XML error
/// bodies. Namespaces are ignored (`local-name` only).
struct XMLTree: Sendable {
    var name: String
    var text: String
    var children: [XMLTree]

    /// The first direct child with this name.
    func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// The element at a path of child names below this one.
    func path(_ names: String...) -> XMLTree? {
        var current: XMLTree? = self
        for name in names { current = current?.child(name) }
        return current
    }

    /// The first element with this name anywhere below (depth first, this element included).
    func first(_ name: String) -> XMLTree? {
        if self.name == name { return self }
        for child in children {
            if let found = child.first(name) { return found }
        }
        return nil
    }

    /// Parses a document; `nil` when it is not well-formed XML.
    static func parse(_ bytes: [UInt8]) -> XMLTree? {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        guard parser.parse(), delegate.failed == false else { return nil }
        return delegate.root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLTree] = []
    var root: XMLTree?
    var failed = false

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        stack.append(XMLTree(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(
        _ parser: XMLParser,
        didEndElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        guard var element = stack.popLast() else {
            failed = true
            return
        }
        element.text = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        failed = true
    }
}

/// The code and message of an AWS error body in any of its forms: JSON (`__type`/`code` and `message`/`Message`)
/// or XML (`<Code>` and `<Message>` anywhere, as in `<ErrorResponse><Error>…` and moto's `<Errors><Error>…`).
struct ErrorBody {
    var code: String?
    var message: String?

    init(_ response: RawResponse) {
        let body = response.body
        let trimmed = body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if trimmed.first == UInt8(ascii: "{"),
            let object = try? JSONSerialization.jsonObject(with: Data(trimmed)) as? [String: Any]
        {
            let type = (object["__type"] as? String) ?? (object["code"] as? String) ?? (object["Code"] as? String)
            code = type.map(AWSErrorShape.code(fromType:))
            message = (object["message"] as? String) ?? (object["Message"] as? String)
        } else if trimmed.first == UInt8(ascii: "<"), let root = XMLTree.parse(Array(trimmed)) {
            code = root.first("Code")?.text
            message = root.first("Message")?.text
        }
        if code?.isEmpty ?? true, let type = response.header("X-Amzn-ErrorType") {
            code = AWSErrorShape.code(fromType: type)
        }
        if code?.isEmpty ?? true { code = nil }
    }

    /// The service error of a failed response: its code and message, or `unknown` with the status and an excerpt of
    /// the body when it names no AWS error code.
    static func serviceError<Failure: AWSServiceError>(_ response: RawResponse, unknown: Failure.Code) -> Failure {
        let parsed = ErrorBody(response)
        guard let code = parsed.code else {
            let excerpt = excerpt(response.body)
            return Failure(
                code: unknown,
                message: "HTTP \(response.status) without an AWS error code" + (excerpt.isEmpty ? "" : ": \(excerpt)"),
                statusCode: response.status
            )
        }
        return Failure(code: Failure.Code(rawValue: code), message: parsed.message ?? "", statusCode: response.status)
    }

    /// A short printable excerpt of an unrecognised body, for error messages.
    static func excerpt(_ body: [UInt8]) -> String {
        let prefix = String(decoding: body.prefix(160), as: UTF8.self)
        let printable = prefix.unicodeScalars.map { $0.properties.isWhitespace || $0.value < 0x20 ? " " : String($0) }
        return printable.joined() + (body.count > 160 ? "…" : "")
    }
}
