import Foundation
package import PostgresNIO
import Storage

/// A PostgreSQL database URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`, parsed.
///
/// The scheme is `postgres` or `postgresql`; the user is required, the password optional (percent-encoded, as in
/// libpq's URIs); the port defaults to 5432 and the database to the user's name. The query takes `sslmode` and
/// `sslrootcert` and nothing else, so a misspelt parameter is refused rather than ignored.
///
/// **TLS.** `sslmode=disable` never encrypts; `prefer` (the default, as in libpq) encrypts when the server offers
/// TLS; `require`, `verify-ca` and `verify-full` refuse a server without TLS. Whenever TLS is used, the server's
/// certificate is verified against the system's trust roots (or the PEM file `sslrootcert` names) and its host name:
/// stricter than libpq's `prefer` and `require`, which accept any certificate. A database that holds the platform's
/// sealed keys is not worth talking to over an unauthenticated channel.
///
/// **Secrets.** The password is kept only to connect: ``description``, the debug description, the mirror (`dump`) and
/// every error show the URL with the password replaced by `***`.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// How the connection uses TLS (libpq's `sslmode`).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the certificate authorities to trust instead of the system's (`sslrootcert`).
    public var rootCertificates: String?

    /// Parses `text`.
    ///
    /// - Throws: ``Storage/StorageError`` `invalidDatabaseURL`, saying what is wrong without repeating the URL's
    ///   password.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw Self.invalid("is not a URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw Self.invalid("has the scheme \(scheme); it must be postgres or postgresql")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Self.invalid("names no user (postgres://USER@…)")
        }
        guard let host = components.host, !host.isEmpty else { throw Self.invalid("names no host") }
        self.user = user
        self.password = components.password
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw Self.invalid("has the port \(port), outside 1-65535") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.contains("/") else { throw Self.invalid("has a path of more than one database name") }
        self.database = path.isEmpty ? user : path
        self.tls = .prefer
        self.rootCertificates = nil
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw Self.invalid("has an sslmode this program does not support (it supports \(modes))")
                }
                tls = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else { throw Self.invalid("has an empty sslrootcert") }
                rootCertificates = path
            default:
                throw Self.invalid("has the parameter \(item.name), which this program does not know")
            }
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.password = password == nil ? nil : "***"
        components.host = host.contains(":") ? "[\(host)]" : host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)]
        return components.string ?? "postgres://\(user)@\(host):\(port)/\(database)"
    }

    public var debugDescription: String { "PostgresURL(\(description))" }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "user": user, "password": password == nil ? "nil" : "***", "host": host, "port": port,
                "database": database, "tls": tls, "rootCertificates": rootCertificates as Any,
            ]
        )
    }

    /// postgres-nio's client configuration for this URL.
    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = [("application_name", "sealed")]
        return configuration
    }

    /// postgres-nio's configuration of a single connection (the migration's) for this URL.
    package func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.additionalStartupParameters = [("application_name", "sealed")]
        return configuration
    }

    /// Certificates verified against the system's roots, or `sslrootcert`'s, and the host name.
    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificates { configuration.trustRoots = .file(rootCertificates) }
        return configuration
    }

    private static func invalid(_ reason: String) -> StorageError {
        StorageError(.invalidDatabaseURL, "The database URL \(reason).")
    }
}
