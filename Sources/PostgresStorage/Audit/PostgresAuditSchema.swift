extension PostgresSchema {
    /// Version 4: the audit trail of ``PostgresAuditStore``.
    ///
    /// - `audit_head`: one row, the chain's head (sequence number and hash of the newest record). Every batch of
    ///   records locks it (`SELECT … FOR UPDATE`), so appends from any number of replicas serialize on it and the
    ///   records form one chain; it starts at sequence 0 and the genesis hash (32 zero bytes).
    /// - `audit_record`: a row per record, its canonical bytes (`record`, exactly what was hashed) beside the columns
    ///   derived from it for the queries' indexes, as in the SQLite store (`event_time` in whole seconds since 1970,
    ///   the records' own precision); `audit_record_key`: the key identifiers each record names.
    /// - `audit_digest`: the signed digests, their canonical JSON in `bytea`.
    /// - `audit_signing_key`: one row, the digest signing key sealed under the root key (``AuditTrail/AuditSigningKey``'s
    ///   own sealed form, as the data directory's `audit-signing.key` holds it).
    static let auditTrailMigration = PostgresMigration(
        version: 4,
        name: "audit-trail",
        statements: [
            """
            CREATE TABLE audit_head (
                only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                sequence bigint NOT NULL,
                hash bytea NOT NULL
            )
            """,
            "INSERT INTO audit_head (sequence, hash) VALUES (0, decode(repeat('00', 32), 'hex'))",
            """
            CREATE TABLE audit_record (
                sequence bigint PRIMARY KEY,
                previous_hash bytea NOT NULL,
                hash bytea NOT NULL,
                event_time bigint NOT NULL,
                event_name text COLLATE "C" NOT NULL,
                principal_arn text COLLATE "C",
                issuer_arn text COLLATE "C",
                event_type text COLLATE "C",
                error_code text COLLATE "C",
                is_denial boolean NOT NULL,
                record bytea NOT NULL
            )
            """,
            "CREATE INDEX audit_record_by_time ON audit_record (event_time)",
            "CREATE INDEX audit_record_by_principal ON audit_record (principal_arn, sequence)",
            """
            CREATE INDEX audit_record_by_issuer ON audit_record (issuer_arn, sequence) WHERE issuer_arn IS NOT NULL
            """,
            "CREATE INDEX audit_record_by_event_type ON audit_record (event_type, sequence)",
            "CREATE INDEX audit_record_errors ON audit_record (sequence) WHERE error_code IS NOT NULL",
            """
            CREATE TABLE audit_record_key (
                key text COLLATE "C" NOT NULL,
                sequence bigint NOT NULL,
                PRIMARY KEY (key, sequence)
            )
            """,
            """
            CREATE TABLE audit_digest (
                digest_sequence bigint PRIMARY KEY,
                head_sequence bigint NOT NULL,
                digest bytea NOT NULL
            )
            """,
            "CREATE INDEX audit_digest_by_head ON audit_digest (head_sequence)",
            """
            CREATE TABLE audit_signing_key (
                only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                sealed bytea NOT NULL
            )
            """,
        ]
    )
}
