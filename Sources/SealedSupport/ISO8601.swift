package import Foundation

/// ISO 8601 / RFC 3339 times in the extended form, UTC: `2026-11-29T10:15:00Z` and `2026-11-29T10:15:00.123Z`.
///
/// Formatted and parsed by hand on the civil calendar (``CivilDate``): audit records, session expirations and STS
/// answers are written and read on every request, where `ISO8601DateFormatter` and `Date.ISO8601FormatStyle` show.
package enum ISO8601 {
    /// `date` as `YYYY-MM-DDTHH:MM:SSZ`, with `fractionDigits` (0...9) digits of the second's fraction, truncated,
    /// after a `.` when not zero. Years outside 0...9999 are written as Foundation writes them.
    package static func format(_ date: Date, fractionDigits: Int = 0) -> String {
        precondition((0...9).contains(fractionDigits), "at most nine fraction digits")
        let interval = date.timeIntervalSince1970
        let whole = interval.rounded(.down)
        // 253,402,300,800 is 10000-01-01T00:00:00Z, -62,167,219,200 is 0000-01-01T00:00:00Z.
        guard whole >= -62_167_219_200, whole < 253_402_300_800 else {
            let style = Date.ISO8601FormatStyle(includingFractionalSeconds: fractionDigits > 0, timeZone: .gmt)
            return date.formatted(style)
        }
        let seconds = Int64(whole)
        let days = CivilDate.floorDiv(seconds, 86_400)
        let time = Int(seconds - days * 86_400)
        let date = CivilDate(daysSince1970: days)
        var fraction = 0
        if fractionDigits > 0 {
            var scale = 1
            for _ in 0..<fractionDigits { scale *= 10 }
            fraction = min(scale - 1, Int(((interval - whole) * Double(scale)).rounded(.down)))
        }
        let length = 20 + (fractionDigits > 0 ? fractionDigits + 1 : 0)
        return String(unsafeUninitializedCapacity: length) { output in
            func put(_ value: Int, _ digits: Int, at offset: Int) {
                var value = value
                for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                    output[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(Int(date.year), 4, at: 0)
            output[4] = UInt8(ascii: "-")
            put(date.month, 2, at: 5)
            output[7] = UInt8(ascii: "-")
            put(date.day, 2, at: 8)
            output[10] = UInt8(ascii: "T")
            put(time / 3_600, 2, at: 11)
            output[13] = UInt8(ascii: ":")
            put(time / 60 % 60, 2, at: 14)
            output[16] = UInt8(ascii: ":")
            put(time % 60, 2, at: 17)
            var end = 19
            if fractionDigits > 0 {
                output[19] = UInt8(ascii: ".")
                put(fraction, fractionDigits, at: 20)
                end = 20 + fractionDigits
            }
            output[end] = UInt8(ascii: "Z")
            return end + 1
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS`, an optional fraction of the second (`.` and 1...9 digits), and `Z` or an offset
    /// `±HH:MM`; `nil` for anything else, a day its month does not have included.
    package static func parse(_ text: some StringProtocol) -> Date? {
        parse(utf8: Array(text.utf8))
    }

    private static func parse(utf8 bytes: [UInt8]) -> Date? {
        var index = 0
        func number(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for offset in index..<(index + count) {
                let digit = bytes[offset] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            index += count
            return value
        }
        func expect(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            let date = CivilDate(year: Int64(year), month: month, day: day), expect("T"),
            let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var nanoseconds = 0
        if expect(".") {
            var digits = 0
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10, digits < 9 {
                nanoseconds = nanoseconds * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { nanoseconds *= 10 }
        }
        var offset = 0
        if !expect("Z") {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else {
                return nil
            }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours < 24,
                offsetMinutes < 60
            else { return nil }
            offset = sign * (offsetHours * 3_600 + offsetMinutes * 60)
        }
        guard index == bytes.count else { return nil }
        let seconds = date.daysSince1970 * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offset)
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
    }
}
