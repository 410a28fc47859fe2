internal import ArgumentParser
internal import Foundation
internal import Logging
internal import PostgresStorage
internal import Storage

/// `sealed admin`: operations on a server's storage, run while no server uses it.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operations on a server's storage.",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Copy a data directory into an empty PostgreSQL database.",
            discussion: """
                Copies everything a `sealed serve --data-dir DIR` keeps into a new, empty PostgreSQL database, so \
                that `sealed serve --database URL` replicas go on where the single server stopped: keys with their \
                sealed material, credentials, identities, the catalog, access requests, subjects, webhooks, the \
                DynamoDB tables, the embedded bus's topics, events and consumer groups' offsets, and the audit trail \
                record by record with its signed digests and signing key.

                The audit trail is verified before anything is copied and again in PostgreSQL afterwards. The data \
                directory is locked for the copy (stop its server first) and left as it was. A database that holds \
                anything is refused; if a copy fails half way, drop and recreate the database, then run again.

                Sealed values are copied as they are: start the replicas with the directory's root key (its \
                root.key file, or the SEALED_ROOT_KEY it was started with).
                """
        )

        @Option(name: .customLong("from"), help: "The data directory (DIR of sealed serve --data-dir DIR).")
        var from: String

        @Option(
            name: .customLong("to"),
            help: "The PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…]; it must be empty."
        )
        var to: String

        func run() async throws {
            try await CLIError.reporting {
                let url: PostgresURL
                do {
                    url = try PostgresURL(to)
                } catch let error as StorageError {
                    throw ValidationError(error.message)
                }
                var logger = Logger(label: "sealed.migrate")
                logger.logLevel = .warning
                let directory = URL(fileURLWithPath: from).standardizedFileURL
                try DataDirectoryImport.checkSource(directory)
                let report = try await PostgresDatabase.withDatabase(url, logger: logger) { database in
                    try await DataDirectoryImport.copy(
                        from: directory,
                        into: database,
                        environment: ProcessInfo.processInfo.environment,
                        logger: logger
                    )
                }
                print("copied \(directory.path) into \(url)")
                print(report)
            }
        }
    }
}
