import Foundation
import SealedSupport
import Testing

/// Civil dates, ISO 8601 and `X-Amz-Date`, against Foundation's Gregorian calendar where it agrees.
struct TimeTests {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    @Test func civilDatesMatchFoundationsCalendarOverCenturies() {
        // Every 97th day from 1600 to 2400: crosses the 1700/1800/1900/2100 non-leap and 2000 leap centuries.
        for days in stride(from: Int64(-135_140), through: 157_000, by: 97) {
            let date = CivilDate(daysSince1970: days)
            let components = Self.utc.dateComponents(
                [.year, .month, .day],
                from: Date(timeIntervalSince1970: Double(days) * 86_400)
            )
            #expect(
                Int64(components.year!) == date.year && components.month! == date.month && components.day! == date.day
            )
            #expect(date.daysSince1970 == days)
        }
    }

    @Test func epochAndBounds() {
        #expect(CivilDate(daysSince1970: 0).fields == (1970, 1, 1))
        #expect(CivilDate(daysSince1970: -1).fields == (1969, 12, 31))
        #expect(CivilDate(year: 0, month: 1, day: 1)!.daysSince1970 == -719_528)
        #expect(CivilDate(year: 9999, month: 12, day: 31)!.daysSince1970 == 2_932_896)
        #expect(CivilDate(daysSince1970: -719_529).fields == (-1, 12, 31))
        #expect(CivilDate(year: -1, month: 12, day: 31)!.daysSince1970 == -719_529)
    }

    @Test func leapYears() {
        #expect(CivilDate.isLeapYear(2024))
        #expect(CivilDate.isLeapYear(2000))
        #expect(CivilDate.isLeapYear(0))
        #expect(!CivilDate.isLeapYear(1900))
        #expect(!CivilDate.isLeapYear(2100))
        #expect(!CivilDate.isLeapYear(2026))
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 1900, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2026, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2026, month: 4, day: 31) == nil)
        #expect(CivilDate(year: 2026, month: 13, day: 1) == nil)
        #expect(CivilDate(year: 2026, month: 0, day: 1) == nil)
        #expect(CivilDate(year: 2026, month: 1, day: 0) == nil)
        #expect(
            CivilDate(year: 2024, month: 2, day: 29)!.daysSince1970 + 1
                == CivilDate(year: 2024, month: 3, day: 1)!.daysSince1970
        )
        // Unchecked fields run on into the next month, as IAM condition dates do.
        #expect(
            CivilDate.daysSince1970(year: 2026, month: 2, day: 31)
                == CivilDate(year: 2026, month: 3, day: 3)!.daysSince1970
        )
    }

    @Test func iso8601FormatsWholeSecondsAndFractions() {
        let date = Date(timeIntervalSince1970: 1_795_947_300.25)
        #expect(ISO8601.format(date) == "2026-11-29T10:15:00Z")
        #expect(ISO8601.format(date, fractionDigits: 3) == "2026-11-29T10:15:00.250Z")
        #expect(ISO8601.format(date, fractionDigits: 1) == "2026-11-29T10:15:00.2Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: 253_402_300_799)) == "9999-12-31T23:59:59Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00Z")
    }

    @Test func iso8601FormatsAsFoundationDoes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let date = Date(
                timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000...4_000_000_000, using: &generator))
            )
            #expect(ISO8601.format(date) == date.formatted(.iso8601))
            #expect(ISO8601.parse(date.formatted(.iso8601)) == date)
        }
    }

    /// Fractions of a second are truncated as Foundation's `.iso8601` style truncates them (STS expirations, audit
    /// export windows and bus publish times are written with both).
    @Test func iso8601FormatsFractionalSecondsAsFoundationDoes() {
        var generator = SystemRandomNumberGenerator()
        let edges = [0.25, 0.5, 0.999_9, -0.5, -1.25, 1_795_947_300.999_9, 1_795_947_300.000_1]
        let random = (0..<2_000).map { _ in Double.random(in: -2_000_000_000...4_000_000_000, using: &generator) }
        for seconds in edges + random {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(ISO8601.format(date) == date.formatted(.iso8601), "\(seconds)")
        }
    }

    @Test(arguments: [
        ("2026-11-29T10:15:00Z", 1_795_947_300.0),
        ("2026-11-29T10:15:00.5Z", 1_795_947_300.5),
        ("2026-11-29T10:15:00.123Z", 1_795_947_300.123),
        ("2026-11-29T10:15:00.123456789Z", 1_795_947_300.123456789),
        ("2026-11-29T11:15:00+01:00", 1_795_947_300.0),
        ("2026-11-29T05:45:00.250-04:30", 1_795_947_300.25),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("1969-12-31T23:59:59Z", -1.0),
    ])
    func iso8601ParsesBothForms(text: String, seconds: Double) throws {
        let date = try #require(ISO8601.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(arguments: [
        "", "2026-11-29", "2026-11-29T10:15Z", "2026-11-29T10:15:00", "2026-11-29 10:15:00Z", "2026-11-29t10:15:00Z",
        "2026-11-29T10:15:00.Z", "2026-11-29T10:15:00.1234567890Z", "2026-11-29T24:00:00Z", "2026-11-29T10:60:00Z",
        "2026-11-29T10:15:60Z", "2026-02-29T10:15:00Z", "2026-13-01T00:00:00Z", "2026-11-29T10:15:00+0100",
        "2026-11-29T10:15:00Z ", "26-11-29T10:15:00Z", "2026-11-29T10:15:00+24:00",
    ])
    func iso8601RefusesOtherForms(text: String) {
        #expect(ISO8601.parse(text) == nil)
    }

    @Test func amzDateFormatsAndParsesTheBasicForm() throws {
        let timestamp = Timestamp(Date(timeIntervalSince1970: 1_440_938_160.9))
        #expect(timestamp.amzDate == "20150830T123600Z")
        #expect(timestamp.dateStamp == "20150830")
        #expect(Timestamp(amzDate: "20150830T123600Z") == timestamp)
        #expect(Timestamp(amzDate: "20240229T000000Z")?.date == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(Timestamp(amzDate: Substring("00000101T000000Z"))?.secondsSince1970 == -62_167_219_200)
        #expect(Timestamp(secondsSince1970: 253_402_300_799).amzDate == "99991231T235959Z")
        for bad in [
            "20150830T123600", "20150830 123600Z", "2015083T123600Z", "20230229T000000Z", "20150830T240000Z",
            "20150830T126000Z", "20150830T123660Z", "2015-08-30T12:36:00Z", "20150830T12360AZ",
        ] {
            #expect(Timestamp(amzDate: bad) == nil, "\(bad)")
        }
    }
}
