import Foundation
import Mustache
import SealedSupport

/// The console's pages: Mustache templates compiled into the binary (`Resources/*.mustache`), HTML-escaped on every
/// `{{value}}` (the templates use no triple mustache), rendered with a dictionary a route builds.
///
/// Every page has the layout's header (the principal, the navigation with the count of requests waiting for their
/// review, sign-out) and footer.
struct Pages: Sendable {
    let library: MustacheLibrary

    /// The templates by name, as shipped.
    static let templates: [(name: String, bytes: [UInt8])] = [
        ("layout-top", PackageResources.layout_top_mustache),
        ("layout-bottom", PackageResources.layout_bottom_mustache),
        ("sign-in", PackageResources.sign_in_mustache),
        ("link", PackageResources.link_mustache),
        ("home", PackageResources.home_mustache),
        ("catalog", PackageResources.catalog_mustache),
        ("event-type", PackageResources.event_type_mustache),
        ("reviews", PackageResources.reviews_mustache),
        ("message", PackageResources.message_mustache),
        ("access", PackageResources.access_mustache),
        ("topics", PackageResources.topics_mustache),
        ("topic", PackageResources.topic_mustache),
        ("opened", PackageResources.opened_mustache),
        ("audit", PackageResources.audit_mustache),
        ("audit-state", PackageResources.audit_state_mustache),
        ("audit-record", PackageResources.audit_record_mustache),
        ("audit-verify", PackageResources.audit_verify_mustache),
        ("audit-usage", PackageResources.audit_usage_mustache),
    ]

    /// The stylesheet, served at `/console/static/console.css`.
    static let stylesheet = PackageResources.console_css

    init() {
        var library = MustacheLibrary()
        for template in Self.templates {
            do {
                try library.register(String(decoding: template.bytes, as: UTF8.self), named: template.name)
            } catch {
                // The templates are part of the binary: one that does not parse is a build defect.
                preconditionFailure("console template \(template.name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// The page `name` rendered with `values`.
    func render(_ name: String, _ values: [String: Any]) -> String {
        guard let html = library.render(values, withTemplate: name) else {
            preconditionFailure("no console template \(name)")
        }
        return html
    }
}

/// How the pages write dates, durations and lists.
enum Format {
    /// `2026-05-04 10:20 UTC (3 hours ago)`.
    static func date(_ date: Date?, now: Date) -> String {
        guard let date else { return "—" }
        let text = ISO8601.format(date)  // 2026-05-04T10:20:30Z
        let minute = text.prefix(16).replacingOccurrences(of: "T", with: " ")
        return "\(minute) UTC (\(relative(date, now: now)))"
    }

    /// `in 2 days`, `5 minutes ago`, `just now`: to the nearest minute, hour or day (7 days less a second is
    /// `in 7 days`).
    static func relative(_ date: Date, now: Date) -> String {
        let seconds = Int(date.timeIntervalSince(now).rounded())
        let magnitude = abs(seconds)
        if magnitude < 60 { return "just now" }
        let minutes = (magnitude + 30) / 60
        let hours = (magnitude + 1800) / 3600
        let (value, unit): (Int, String) =
            minutes < 60 ? (minutes, "minute") : hours < 24 ? (hours, "hour") : ((magnitude + 43_200) / 86_400, "day")
        let amount = "\(value) \(unit)\(value == 1 ? "" : "s")"
        return seconds > 0 ? "in \(amount)" : "\(amount) ago"
    }

    /// `1 hour`, `7 days`, `no end` for `nil`.
    static func duration(_ seconds: Int?) -> String {
        guard let seconds else { return "no end" }
        if seconds % 86_400 == 0 { return plural(seconds / 86_400, "day") }
        if seconds % 3600 == 0 { return plural(seconds / 3600, "hour") }
        return plural(max(1, seconds / 60), "minute")
    }

    static func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    private static func plural(_ value: Int, _ unit: String) -> String { "\(value) \(unit)\(value == 1 ? "" : "s")" }

    /// A path segment for a name (event types are `[A-Za-z0-9._-]`, but a path never trusts that).
    static func segment(_ name: String) -> String { PercentEncoding.encode(name) }
}
