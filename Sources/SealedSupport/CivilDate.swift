/// A date of the proleptic Gregorian calendar, and the integer arithmetic that turns it into days since 1970-01-01
/// and back, without `Calendar` or `DateFormatter`: it runs for every signed request and every audit record.
package struct CivilDate: Hashable, Sendable {
    /// The year; any `Int64` the day count can hold, 0 and negative years included (astronomical numbering).
    package var year: Int64
    /// The month, 1...12.
    package var month: Int
    /// The day of the month, 1...31.
    package var day: Int

    /// The date, or `nil` when `month` is not 1...12 or `day` is not a day of that month (no February 30).
    package init?(year: Int64, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The year, month and day.
    package var fields: (year: Int64, month: Int, day: Int) { (year, month, day) }

    /// Whether `year` has a February 29.
    package static func isLeapYear(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days of `month` (1...12) in `year`.
    package static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `value / divisor` rounded towards minus infinity (`divisor` > 0).
    package static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor < 0) ? quotient - 1 : quotient
    }

    // Days since 1970-01-01 to and from a civil date, by counting 400-year eras of 146,097 days, with years
    // starting on March 1 so that the leap day falls at the end of a year (Howard Hinnant's algorithms).

    /// The date `daysSince1970` days after 1970-01-01 (before it when negative).
    package init(daysSince1970: Int64) {
        let shifted = daysSince1970 + 719_468  // days since 0000-03-01
        let era = Self.floorDiv(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11
        day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// The days from 1970-01-01 to this date (negative before it).
    package var daysSince1970: Int64 { Self.daysSince1970(year: year, month: month, day: day) }

    /// The days from 1970-01-01 to a date given by its fields, which are not checked: a day past the end of its month
    /// runs on into the next (`2026-02-31` is `2026-03-03`), as IAM's condition dates do. `month` must be 1...12.
    package static func daysSince1970(year: Int64, month: Int, day: Int) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = Self.floorDiv(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let monthFromMarch = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
