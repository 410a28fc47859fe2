package import Foundation
import SealedSupport

/// Dates as IAM condition values write them: ISO 8601 (`2026-11-29`, `2026-11-29T10:15:00Z`,
/// `2026-11-29T10:15:00.250+01:00`) or seconds since the epoch (`1764411300`).
package enum PolicyDate {
    /// Parses a condition date; `nil` when the text is neither form.
    package static func parse(_ text: String) -> Date? {
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Double(text).map { Date(timeIntervalSince1970: $0) }
        }
        let b = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var value = 0
            for k in i..<(i + count) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                value = value * 10 + Int(b[k] - 48)
            }
            i += count
            return value
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = 0.0
        var offset = 0
        if i < b.count {
            guard expect("T") || expect("t") || expect(" "), let hour = digits(2), expect(":"), let minute = digits(2),
                hour < 24, minute < 60
            else { return nil }
            seconds = Double(hour * 3600 + minute * 60)
            if expect(":") {
                guard let second = digits(2), second < 61 else { return nil }
                seconds += Double(second)
                if expect(".") {
                    var scale = 0.1
                    var any = false
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        seconds += Double(b[i] - 48) * scale
                        scale /= 10
                        i += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            if expect("Z") || expect("z") {
            } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = digits(2) else { return nil }
                _ = expect(":")
                guard let om = digits(2), oh < 24, om < 60 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            }
            guard i == b.count else { return nil }
        }
        let days = CivilDate.daysSince1970(year: Int64(year), month: month, day: day)
        return Date(timeIntervalSince1970: Double(days * 86_400) + seconds - Double(offset))
    }

    /// Formats a date as AWS writes `aws:CurrentTime`: `2026-11-29T10:15:00Z`.
    package static func format(_ date: Date) -> String { ISO8601.format(date) }
}
