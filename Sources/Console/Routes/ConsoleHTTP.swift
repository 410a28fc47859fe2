import HTTPTypes
import Hummingbird
import NIOCore
import SealedSupport

/// The console's HTTP conventions: its cookie, form bodies and responses.
enum ConsoleHTTP {
    /// The session cookie's name.
    static let cookieName = "sealed_console"
    /// The largest form body read (a justification or a comment is at most a few KiB).
    static let maximumFormSize = 64 * 1024

    /// The headers of every console response: a strict Content-Security-Policy (no inline script or style, nothing
    /// from another origin, no framing, forms only to the console), `X-Frame-Options: DENY`, no referrer, no MIME
    /// sniffing.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
    ]

    /// The session id the request's cookie carries, if any.
    static func sessionID(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == cookieName {
                    let value = trimmed[trimmed.index(after: equals)...]
                    // Ids are 64 hex digits; anything else is no session.
                    return value.utf8.count == 64 && value.utf8.allSatisfy { Hex.value(of: $0) != nil }
                        ? String(value) : nil
                }
            }
        }
        return nil
    }

    /// The `Set-Cookie` value of a session: HttpOnly, SameSite=Strict, for `/console` only, `Secure` over TLS; no
    /// expiry attribute (the browser forgets it when it closes; the server ends it earlier).
    static func cookie(_ id: String, secure: Bool) -> String {
        "\(cookieName)=\(id); Path=/console; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that removes the session cookie.
    static func clearedCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// An HTML page: never cached (pages carry data), with the security headers.
    static func page(_ html: String, status: HTTPResponse.Status = .ok, cookie: String? = nil) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A redirect after a form (`303 See Other`) or to sign-in.
    static func redirect(to location: String, cookie: String? = nil) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// The form of a `application/x-www-form-urlencoded` body; refuses another content type or a larger body.
    static func form(_ request: Request) async throws -> Form {
        var request = request
        let type = request.headers[.contentType] ?? ""
        guard type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw ConsoleRefusal(code: "UnsupportedMediaType", message: "The console takes HTML form posts only.")
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maximumFormSize)
        } catch {
            throw ConsoleRefusal(code: "RequestEntityTooLarge", message: "The form is larger than 64 KiB.")
        }
        return Form(Array(body.readableBytesView))
    }
}

/// An HTML form's fields, from `application/x-www-form-urlencoded` bytes (`+` is a space, `%XX` a byte); the first
/// value of a repeated name wins.
struct Form: Sendable {
    private var fields: [String: String] = [:]

    init(_ bytes: [UInt8]) {
        for pair in bytes.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            guard fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    private static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        let spaced = bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }
        return String(decoding: PercentEncoding.decode(spaced), as: UTF8.self)
    }
}
