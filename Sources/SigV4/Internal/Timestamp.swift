import Foundation

/// A UTC instant at whole-second resolution, formatted and parsed by hand.
///
/// SigV4 writes time in the ISO 8601 basic format `YYYYMMDDTHHMMSSZ` (`X-Amz-Date`) and dates as `YYYYMMDD`
/// (the credential scope); see "Elements of an AWS API request signature" in the IAM User Guide. Both run on
/// every signed and every verified request, so they avoid `DateFormatter` and `ISO8601DateFormatter` and use
/// integer calendar arithmetic on the proleptic Gregorian calendar instead.
struct Timestamp: Hashable, Comparable, Sendable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    var secondsSince1970: Int64

    init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// The timestamp of `date`, rounded down to the second.
    init(_ date: Date) {
        self.secondsSince1970 = Int64(date.timeIntervalSince1970.rounded(.down))
    }

    var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }

    static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    /// The 16 bytes of `YYYYMMDDTHHMMSSZ`.
    var amzDate: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        appendAmzDate(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 8 bytes of `YYYYMMDD`, the date of the credential scope.
    var dateStamp: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        appendDateStamp(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func appendAmzDate(to out: inout [UInt8]) {
        appendDateStamp(to: &out)
        let secondOfDay = Int(secondsSince1970 - Self.floorDiv(secondsSince1970, 86_400) * 86_400)
        out.append(UInt8(ascii: "T"))
        Self.appendTwoDigits(secondOfDay / 3600, to: &out)
        Self.appendTwoDigits(secondOfDay / 60 % 60, to: &out)
        Self.appendTwoDigits(secondOfDay % 60, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    func appendDateStamp(to out: inout [UInt8]) {
        let (year, month, day) = Self.civil(fromDays: Self.floorDiv(secondsSince1970, 86_400))
        precondition((0...9999).contains(year), "SigV4 dates have four-digit years")
        Self.appendTwoDigits(Int(year / 100), to: &out)
        Self.appendTwoDigits(Int(year % 100), to: &out)
        Self.appendTwoDigits(month, to: &out)
        Self.appendTwoDigits(day, to: &out)
    }

    /// Parses `YYYYMMDDTHHMMSSZ` strictly: exactly 16 ASCII bytes, a valid calendar date and time of day.
    init?(amzDate text: some StringProtocol) {
        let utf8 = Array(text.utf8)
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
            (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: Int64(year), month: month),
            hour < 24, minute < 60, second < 60
        else { return nil }
        let days = Self.days(fromCivil: Int64(year), month: month, day: day)
        self.secondsSince1970 = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func appendTwoDigits(_ value: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor < 0) ? quotient - 1 : quotient
    }

    private static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Days since 1970-01-01 to and from a civil date, by counting 400-year eras of 146,097 days, with years
    // starting on March 1 so that the leap day falls at the end of a year.

    private static func civil(fromDays daysSince1970: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = daysSince1970 + 719_468  // days since 0000-03-01
        let era = floorDiv(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11
        let day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        let month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func days(fromCivil year: Int64, month: Int, day: Int) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = floorDiv(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let monthFromMarch = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
