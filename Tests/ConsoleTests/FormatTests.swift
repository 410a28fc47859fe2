import Foundation
import Testing

@testable import Console

/// How pages write times and durations.
struct FormatTests {
    @Test(arguments: [
        (0, "just now"), (59, "just now"), (-59, "just now"), (60, "in 1 minute"), (89, "in 1 minute"),
        (90, "in 2 minutes"), (-150, "3 minutes ago"), (3_569, "in 59 minutes"), (3_599, "in 1 hour"),
        (5_399, "in 1 hour"), (5_400, "in 2 hours"), (86_399, "in 1 day"), (7 * 86_400 - 1, "in 7 days"),
        (-(2 * 86_400 + 7_200), "2 days ago"), (3 * 86_400 + 43_200, "in 4 days"),
    ])
    func relativeTimesRoundToTheNearestUnit(seconds: Int, text: String) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(Format.relative(now.addingTimeInterval(Double(seconds)), now: now) == text)
    }

    @Test func datesAreUTCToTheMinuteWithTheRelativeTime() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
        #expect(Format.date(now.addingTimeInterval(3_600), now: now) == "2027-01-15 09:00 UTC (in 1 hour)")
        #expect(Format.date(nil, now: now) == "—")
    }

    @Test(arguments: [(nil, "no end"), (60, "1 minute"), (3_600, "1 hour"), (7_200, "2 hours"), (604_800, "7 days"), (90, "1 minute")])
    func durations(seconds: Int?, text: String) {
        #expect(Format.duration(seconds) == text)
    }
}
