import Foundation

/// The profiles of the AWS shared configuration files (`~/.aws/config` and `~/.aws/credentials`), parsed as the
/// AWS CLI does.
///
/// Both files are INI: `[section]` headers, `key = value` (or `key: value`) lines, comment lines starting with
/// `#` or `;`. In the config file a profile's section is `[profile NAME]` (and `[default]`); other sections
/// (`[sso-session …]`, `[services …]`) are not profiles. In the credentials file the section is the profile name.
/// Keys are case-insensitive (stored lower-cased). Indented lines under a key without a value form a
/// sub-section (`s3 =` then `  max_concurrent_requests = 10`), kept as `s3.max_concurrent_requests`. Values from
/// the credentials file win over the config file's for the same profile.
///
/// Its description and mirror redact the values of secret keys (`aws_secret_access_key`, `aws_session_token`).
public struct ProfileFile: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The profiles by name, each a map of lower-cased keys to values.
    public var profiles: [String: [String: String]]

    public init(profiles: [String: [String: String]] = [:]) { self.profiles = profiles }

    public var description: String {
        let rendered = profiles.keys.sorted().map { name in
            let settings = redacted(profiles[name] ?? [:]).sorted { $0.key < $1.key }
            return "[\(name)] " + settings.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        }
        return "ProfileFile(\(rendered.joined(separator: "; ")))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["profiles": profiles.mapValues(redacted)])
    }

    private func redacted(_ settings: [String: String]) -> [String: String] {
        var settings = settings
        for key in settings.keys where key.contains("secret") || key.contains("token") {
            settings[key] = "<redacted>"
        }
        return settings
    }

    /// The settings of a profile, or `nil` when there is no such profile.
    public subscript(profile name: String) -> [String: String]? { profiles[name] }

    /// Which kind of file a text comes from.
    public enum Kind: Sendable {
        /// `~/.aws/config`: `[profile NAME]` sections.
        case config
        /// `~/.aws/credentials`: `[NAME]` sections.
        case credentials
    }

    /// Parses one file.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - kind: Which file it is.
    /// - Returns: The profiles it defines. Lines outside any section and malformed lines are ignored.
    public static func parse(_ text: String, kind: Kind) -> ProfileFile {
        var profiles: [String: [String: String]] = [:]
        var current: String? = nil
        var parentKey: String? = nil
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let indented = rawLine.first == " " || rawLine.first == "\t"
            if line.hasPrefix("[") {
                parentKey = nil
                guard line.hasSuffix("]") else {
                    current = nil
                    continue
                }
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = profileName(section: name, kind: kind)
                if let current, profiles[current] == nil { profiles[current] = [:] }
                continue
            }
            guard let profile = current, let (key, value) = keyValue(line) else { continue }
            if indented, let parentKey {
                profiles[profile]?["\(parentKey).\(key)"] = value
            } else {
                profiles[profile]?[key] = value
                parentKey = value.isEmpty ? key : nil
            }
        }
        return ProfileFile(profiles: profiles)
    }

    /// Merges another file's profiles over these (its values win).
    public func merging(_ other: ProfileFile) -> ProfileFile {
        var merged = profiles
        for (name, settings) in other.profiles {
            merged[name, default: [:]].merge(settings) { _, new in new }
        }
        return ProfileFile(profiles: merged)
    }

    private static func profileName(section: String, kind: Kind) -> String? {
        switch kind {
        case .credentials:
            return section.isEmpty ? nil : section
        case .config:
            if section == "default" { return "default" }
            let parts = section.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0] == "profile" else { return nil }
            let name = parts[1].trimmingCharacters(in: .whitespaces)
            return name.isEmpty ? nil : name
        }
    }

    private static func keyValue(_ line: String) -> (String, String)? {
        guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : (key, value)
    }

    /// Loads and merges the config and credentials files an environment points at.
    ///
    /// The paths are `AWS_CONFIG_FILE` (default `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (default
    /// `~/.aws/credentials`), with `~` taken from `HOME` of the environment. Missing files count as empty.
    ///
    /// - Parameter environment: The environment variables.
    /// - Returns: The merged profiles.
    public static func load(environment: [String: String]) -> ProfileFile {
        let config = read(path(environment["AWS_CONFIG_FILE"], default: "~/.aws/config", environment: environment))
        let credentials = read(
            path(environment["AWS_SHARED_CREDENTIALS_FILE"], default: "~/.aws/credentials", environment: environment)
        )
        return parse(config ?? "", kind: .config).merging(parse(credentials ?? "", kind: .credentials))
    }

    static func path(_ configured: String?, default fallback: String, environment: [String: String]) -> String? {
        let raw = configured.flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        guard raw.hasPrefix("~") else { return raw }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + raw.dropFirst()
    }

    private static func read(_ path: String?) -> String? {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
