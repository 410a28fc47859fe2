import Foundation
import SealedSupport

extension Request {
    /// Reads a request written out as an HTTP/1.1 message, the way the AWS SigV4 test suite writes its
    /// `request.txt`, `*-signed-request.txt`, `.req` and `.sreq` files.
    ///
    /// The message is read as the suite writes it, which is looser than the wire format:
    ///
    /// - The request line is `METHOD SP request-target SP HTTP-version`. The target is taken as written, not
    ///   percent-decoded or checked: it may hold spaces and raw UTF-8 (`GET /example space/ HTTP/1.1`), so the
    ///   method ends at the first space and the target at the last one, before the `HTTP/` version. The target is
    ///   cut at its first `?` into ``path`` and ``query``.
    /// - Each header line is `Name:value`; the value is kept exactly as written, leading spaces included (the
    ///   canonical request trims it). A line that starts with a space or a tab continues the previous header
    ///   (obs-fold, RFC 9112 § 5.2) and is joined to it with one space, its leading whitespace dropped.
    /// - Lines end with LF or CRLF. The first empty line ends the header section; every byte after it is the
    ///   body, and ``payload`` becomes its SHA-256 (``Payload/body(_:)``). A message that ends without an empty
    ///   line has no body.
    ///
    /// The method, target and header values are decoded as UTF-8, invalid bytes replaced by U+FFFD. Nothing else
    /// is checked: a `Content-Length` that disagrees with the body is kept as it is, since signing tests need it.
    ///
    /// - Parameter httpMessage: The whole message: request line, header lines, and optionally an empty line and
    ///   the body.
    /// - Throws: ``ParseError`` when the message has no request line, a request line without a method, target
    ///   and `HTTP/` version, or a header line without a colon or a continuation line before any header.
    public init(httpMessage: some Collection<UInt8>) throws(ParseError) {
        let bytes = Array(httpMessage)
        let newline = UInt8(ascii: "\n")
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var bodyStart = bytes.endIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: newline) ?? bytes.endIndex
            var line = bytes[start..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            start = end == bytes.endIndex ? end : end + 1
            if line.isEmpty && !lines.isEmpty {
                bodyStart = start
                break
            }
            lines.append(line)
        }

        guard let requestLine = lines.first, !requestLine.isEmpty else {
            throw ParseError(.missingRequestLine, line: 1, detail: "the message has no request line")
        }
        let (method, path, query) = try Self.parseRequestLine(String(decoding: requestLine, as: UTF8.self))

        var headers: [(name: String, value: String)] = []
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                guard let previous = headers.popLast() else {
                    throw ParseError(
                        .malformedHeader,
                        line: number,
                        detail: "line \(number) continues a header, but no header comes before it"
                    )
                }
                let continuation = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                headers.append(
                    (name: previous.name, value: previous.value + " " + String(decoding: continuation, as: UTF8.self))
                )
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex else {
                throw ParseError(
                    .malformedHeader,
                    line: number,
                    detail: "line \(number) is not a header: it has no name before a colon"
                )
            }
            headers.append(
                (
                    name: String(decoding: line[..<colon], as: UTF8.self),
                    value: String(decoding: line[(colon + 1)...], as: UTF8.self)
                )
            )
        }

        self.init(
            method: method,
            path: path,
            query: query,
            headers: headers,
            payload: .body(bytes[bodyStart...])
        )
    }

    /// Reads a request written out as an HTTP/1.1 message; the body is the UTF-8 of the text after the empty line.
    ///
    /// The format is that of the initializer taking the message's bytes.
    ///
    /// - Parameter httpMessage: The whole message as text.
    /// - Throws: ``ParseError`` when the message cannot be read.
    public init(httpMessage: String) throws(ParseError) {
        try self.init(httpMessage: httpMessage.utf8)
    }

    private static func parseRequestLine(
        _ line: String
    ) throws(ParseError) -> (method: String, path: String, query: String) {
        guard let methodEnd = line.firstIndex(of: " "), methodEnd != line.startIndex,
            let versionStart = line.lastIndex(of: " "), versionStart > methodEnd,
            line[line.index(after: versionStart)...].hasPrefix("HTTP/")
        else {
            throw ParseError(
                .malformedRequestLine,
                line: 1,
                detail: "the request line is not \"METHOD request-target HTTP/version\""
            )
        }
        let target = line[line.index(after: methodEnd)..<versionStart]
        guard !target.isEmpty else {
            throw ParseError(.malformedRequestLine, line: 1, detail: "the request line has an empty request target")
        }
        let method = String(line[..<methodEnd])
        guard let question = target.firstIndex(of: "?") else {
            return (method, String(target), "")
        }
        return (method, String(target[..<question]), String(target[target.index(after: question)...]))
    }
}

extension Request {
    /// Why a message given to `Request(httpMessage:)` cannot be read.
    ///
    /// Equality compares the ``reason`` only.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The kind of failure.
        public var reason: Reason
        /// The 1-based number of the line at fault.
        public var line: Int
        /// A sentence for error messages.
        public var detail: String

        /// Creates a parse error.
        public init(_ reason: Reason, line: Int, detail: String) {
            self.reason = reason
            self.line = line
            self.detail = detail
        }

        public var description: String { detail }
    }
}

extension Request.ParseError {
    /// The kind of a ``Request/ParseError``: an open set of reasons, compared by identity.
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        private enum Code: UInt8, Hashable {
            case missingRequestLine
            case malformedRequestLine
            case malformedHeader
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// The message is empty, or starts with an empty line.
        public static let missingRequestLine = Reason(.missingRequestLine)
        /// The request line lacks a method, a request target or an `HTTP/` version.
        public static let malformedRequestLine = Reason(.malformedRequestLine)
        /// A header line has no colon or no name, or a continuation line comes before any header.
        public static let malformedHeader = Reason(.malformedHeader)

        public var description: String {
            switch code {
            case .missingRequestLine: "missingRequestLine"
            case .malformedRequestLine: "malformedRequestLine"
            case .malformedHeader: "malformedHeader"
            }
        }
    }
}

extension Request.ParseError: CodedError {
    package var code: Reason { reason }
}
