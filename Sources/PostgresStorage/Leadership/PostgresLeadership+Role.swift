extension PostgresLeadership {
    /// A background service that runs on one replica at a time; its advisory lock key is derived from its name.
    ///
    /// **Keys.** The lock is PostgreSQL's two-key form `(namespace, key)`: ``namespace`` is "Seal" in ASCII and
    /// ``key`` the 32-bit FNV-1a hash of the name's UTF-8 bytes, the same on every replica, platform and version
    /// (Swift's `Hasher` is seeded per process, so it is not used). The two-key form is a lock space of its own,
    /// apart from the one-key `bigint` form the schema migration locks. Two roles could collide only if their names
    /// hashed alike; roles exist only as the fixed set ``all`` (the initializer is private), whose keys are distinct
    /// (a test checks it), so a collision cannot happen.
    public struct Role: Sendable, Hashable, CustomStringConvertible {
        /// The service's name, as logs show it.
        public let name: String

        private init(_ name: String) { self.name = name }

        public var description: String { name }

        /// Approval expiry, grants ending, expired sessions removed (`ExpiryService`).
        public static let expiry = Role("access-expiry")
        /// Keys deleted at the end of their window and rotated when due (`MaintenanceService`).
        public static let keyMaintenance = Role("key-maintenance")
        /// The audit trail's signed digests.
        public static let auditDigests = Role("audit-digests")
        /// The event bus's retention (`PostgresTransport.prune()`).
        public static let busRetention = Role("bus-retention")
        /// Webhook deliveries (`WebhookService`).
        public static let webhooks = Role("webhook-delivery")
        /// CloudTrail log files ingested into the audit trail.
        public static let cloudTrailIngest = Role("cloudtrail-ingest")
        /// AWS mode's periodic drift check, which records each difference in the audit trail (`AWSDriftService`).
        public static let awsDriftCheck = Role("aws-drift-check")

        /// Every role of the platform.
        public static let all: [Role] = [
            .expiry, .keyMaintenance, .auditDigests, .busRetention, .webhooks, .cloudTrailIngest, .awsDriftCheck,
        ]

        /// The first key of every leadership lock: "Seal" in ASCII.
        package static let namespace = Int32(0x5365_616C)

        /// The second key: FNV-1a (32 bit) of the name's UTF-8 bytes.
        package var key: Int32 {
            var hash: UInt32 = 0x811c_9dc5
            for byte in name.utf8 {
                hash ^= UInt32(byte)
                hash &*= 0x0100_0193
            }
            return Int32(bitPattern: hash)
        }
    }
}
