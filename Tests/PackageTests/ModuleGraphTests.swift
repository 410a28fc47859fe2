import Foundation
import Testing

/// The README's module graph is the package's: every module of `Package.swift` is listed with exactly the package
/// modules it depends on, in the layer order of the design (a module depends only on layers below it or its own).
@Suite struct ModuleGraphTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A row of the README's graph: `| layer | \`Module\` | \`A\`, \`B\` |` (a dash for no dependency).
    struct Row: Equatable {
        var layer: String
        var module: String
        var dependencies: Set<String>
    }

    static func readmeRows() throws -> [Row] {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(text.range(of: "### The module graph"), "the README has a module graph")
        var rows: [Row] = []
        for line in text[section.upperBound...].split(separator: "\n") {
            if line.hasPrefix("#") { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count == 5, cells[2].hasPrefix("`") else { continue }
            rows.append(
                Row(
                    layer: cells[1],
                    module: cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`")),
                    dependencies: Set(names(in: cells[3]))
                )
            )
        }
        return rows
    }

    /// The non-test targets of `Package.swift` and the package targets each depends on (by name, not products).
    static func manifestTargets() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var targets: [String: Set<String>] = [:]
        for kind in [".target(", ".executableTarget("] {
            var rest = text[...]
            while let start = rest.range(of: kind) {
                let block = balanced(rest[start.upperBound...])
                if let name = firstString(after: "name:", in: block) {
                    var dependencies: Set<String> = []
                    if let list = block.range(of: "dependencies:") {
                        let bracket = balanced(block[list.upperBound...], open: "[", close: "]")
                        // Only bare strings name package targets; `.product(name: …)` entries name other packages.
                        let withoutProducts = bracket.replacingOccurrences(
                            of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
                        dependencies = Set(quotedStrings(in: withoutProducts[...]))
                    }
                    targets[name] = dependencies
                }
                rest = rest[start.upperBound...]
            }
        }
        return targets
    }

    @Test func theReadmeGraphIsThePackageGraph() throws {
        let rows = try Self.readmeRows()
        let manifest = try Self.manifestTargets()
        #expect(!manifest.isEmpty)
        #expect(Set(rows.map(\.module)) == Set(manifest.keys), "every module listed once, and only modules")
        for row in rows {
            #expect(row.dependencies == manifest[row.module], "\(row.module)'s dependencies")
        }
        #expect(rows.count == Set(rows.map(\.module)).count, "no module listed twice")
    }

    @Test func modulesDependOnlyOnLowerLayers() throws {
        let rows = try Self.readmeRows()
        var layers: [String] = []
        for row in rows where layers.last != row.layer {
            #expect(!layers.contains(row.layer), "layer \(row.layer) is one run of rows")
            layers.append(row.layer)
        }
        let layerOf = Dictionary(uniqueKeysWithValues: rows.map { ($0.module, layers.firstIndex(of: $0.layer)!) })
        for row in rows {
            for dependency in row.dependencies {
                let below = try #require(layerOf[dependency], "\(dependency) is in the graph")
                #expect(below <= layerOf[row.module]!, "\(row.module) (\(row.layer)) depends on \(dependency) above it")
            }
        }
    }

    // MARK: - Reading the texts

    static func names(in cell: String) -> [String] {
        cell.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "` ")) }
            .filter { !$0.isEmpty && $0 != "—" && $0 != "-" }
    }

    /// The text from just after an opening delimiter (already consumed) to its matching close.
    static func balanced(_ text: Substring, open: Character = "(", close: Character = ")") -> Substring {
        var depth = 1
        var index = text.startIndex
        if open == "[" {
            guard let first = text.firstIndex(of: "[") else { return "" }
            index = text.index(after: first)
        }
        let start = index
        while index < text.endIndex {
            if text[index] == open { depth += 1 }
            if text[index] == close {
                depth -= 1
                if depth == 0 { return text[start..<index] }
            }
            index = text.index(after: index)
        }
        return text[start...]
    }

    static func firstString(after label: String, in text: Substring) -> String? {
        guard let range = text.range(of: label) else { return nil }
        return quotedStrings(in: text[range.upperBound...]).first
    }

    static func quotedStrings(in text: Substring) -> [String] {
        text.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
