package import Foundation

/// A UTC instant at whole-second resolution, formatted and parsed by hand (see ``ISO8601`` for the extended form).
///
/// SigV4 writes time in the ISO 8601 basic format `YYYYMMDDTHHMMSSZ` (`X-Amz-Date`) and dates as `YYYYMMDD`
/// (the credential scope); see "Elements of an AWS API request signature" in the IAM User Guide. Both run on
/// every signed and every verified request, so they avoid `DateFormatter` and `ISO8601DateFormatter` and use
/// integer calendar arithmetic on the proleptic Gregorian calendar instead.
package struct Timestamp: Hashable, Comparable, Sendable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    package var secondsSince1970: Int64

    package init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// The timestamp of `date`, rounded down to the second.
    package init(_ date: Date) {
        self.secondsSince1970 = Int64(date.timeIntervalSince1970.rounded(.down))
    }

    package var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }

    package static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    /// The 16 bytes of `YYYYMMDDTHHMMSSZ`.
    package var amzDate: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        appendAmzDate(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 8 bytes of `YYYYMMDD`, the date of the credential scope.
    package var dateStamp: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        appendDateStamp(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    package func appendAmzDate(to out: inout [UInt8]) {
        appendDateStamp(to: &out)
        let secondOfDay = Int(secondsSince1970 - CivilDate.floorDiv(secondsSince1970, 86_400) * 86_400)
        out.append(UInt8(ascii: "T"))
        Self.appendTwoDigits(secondOfDay / 3600, to: &out)
        Self.appendTwoDigits(secondOfDay / 60 % 60, to: &out)
        Self.appendTwoDigits(secondOfDay % 60, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    package func appendDateStamp(to out: inout [UInt8]) {
        let (year, month, day) = CivilDate(daysSince1970: CivilDate.floorDiv(secondsSince1970, 86_400)).fields
        precondition((0...9999).contains(year), "SigV4 dates have four-digit years")
        Self.appendTwoDigits(Int(year / 100), to: &out)
        Self.appendTwoDigits(Int(year % 100), to: &out)
        Self.appendTwoDigits(month, to: &out)
        Self.appendTwoDigits(day, to: &out)
    }

    /// Parses `YYYYMMDDTHHMMSSZ` strictly: exactly 16 ASCII bytes, a valid calendar date and time of day.
    @inlinable
    package init?(amzDate text: some StringProtocol) {
        self.init(amzDateUTF8: Array(text.utf8))
    }

    /// Parses `YYYYMMDDTHHMMSSZ` given as its UTF-8 bytes; see ``init(amzDate:)``.
    package init?(amzDateUTF8 utf8: [UInt8]) {
        guard utf8.count == 16, utf8[8] == UInt8(ascii: "T"), utf8[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = utf8[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            let civil = CivilDate(year: Int64(year), month: month, day: day), hour < 24, minute < 60, second < 60
        else { return nil }
        self.secondsSince1970 = civil.daysSince1970 * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func appendTwoDigits(_ value: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
