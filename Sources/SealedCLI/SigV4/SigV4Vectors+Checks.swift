internal import Foundation

extension SigV4Vectors {
    enum CheckResult {
        case passed(String)
        case failure(CheckFailure)
    }

    struct Recorder {
        let testCase: String
        var outcomes: [Outcome] = []

        mutating func record(_ check: String, _ result: CheckResult) {
            switch result {
            case .passed(let note):
                outcomes.append(Outcome(testCase: testCase, check: check, passed: true, detail: note))
            case .failure(let failure):
                outcomes.append(Outcome(testCase: testCase, check: check, passed: false, detail: failure.detail))
            }
        }

        /// Runs one check and records its outcome.
        ///
        /// - Returns: Whether it passed.
        @discardableResult
        mutating func check(_ check: String, _ body: () async throws(CheckFailure) -> Void) async -> Bool {
            do {
                try await body()
                record(check, .passed(""))
                return true
            } catch {
                record(check, .failure(error))
                return false
            }
        }
    }
}

/// Fails unless the two strings are equal; the detail shows the first line where they differ.
func expectEqual(_ actual: String, _ expected: String, what: String? = nil) throws(SigV4Vectors.CheckFailure) {
    guard actual != expected else { return }
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let prefix = what.map { "\($0): " } ?? ""
    if actualLines.count == 1 && expectedLines.count == 1 {
        throw SigV4Vectors.CheckFailure("\(prefix)got \(quoted(actual)), expected \(quoted(expected))")
    }
    let line =
        zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actualLines.count, expectedLines.count)
    let got = line < actualLines.count ? quoted(actualLines[line]) : "no line"
    let wanted = line < expectedLines.count ? quoted(expectedLines[line]) : "no line"
    throw SigV4Vectors.CheckFailure("\(prefix)line \(line + 1) differs: got \(got), expected \(wanted)")
}

/// Fails unless the two lists hold the same elements, order aside.
func expectSame(_ actual: [String], _ expected: [String], what: String) throws(SigV4Vectors.CheckFailure) {
    guard actual.sorted() != expected.sorted() else { return }
    var missing = expected
    var extra: [String] = []
    for element in actual {
        if let index = missing.firstIndex(of: element) { missing.remove(at: index) } else { extra.append(element) }
    }
    throw SigV4Vectors.CheckFailure(
        "\(what) differ: missing \(missing.map(quoted).joined(separator: ", ")); "
            + "unexpected \(extra.map(quoted).joined(separator: ", "))"
    )
}

/// Fails unless the two header lists are the same set of (lower-cased name, trimmed value), order aside.
func expectSameHeaders(
    _ actual: [(name: String, value: String)],
    _ expected: [(name: String, value: String)]
) throws(SigV4Vectors.CheckFailure) {
    func normalized(_ headers: [(name: String, value: String)]) -> [String] {
        headers.map { "\($0.name.lowercased()):\($0.value.trimmingCharacters(in: .whitespaces))" }
    }
    try expectSame(normalized(actual), normalized(expected), what: "headers")
}

/// `headers` with each of `replacements` set: earlier headers of the same name (any case) are removed.
func applying(
    _ replacements: [(name: String, value: String)],
    to headers: [(name: String, value: String)]
) -> [(name: String, value: String)] {
    let names = Set(replacements.map { $0.name.lowercased() })
    return headers.filter { !names.contains($0.name.lowercased()) } + replacements
}

/// The `&`-separated components of a raw query.
func sortedQueryComponents(_ query: String) -> [String] {
    query.split(separator: "&").map(String.init).sorted()
}

/// A string in quotes with its control characters escaped, so a failure stays on one line.
func quoted(_ text: some StringProtocol) -> String {
    String(reflecting: String(text))
}
