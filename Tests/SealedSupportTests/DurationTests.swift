import SealedSupport
import Testing

struct DurationTests {
    @Test func nanosecondsTruncateAttosecondsAndSaturate() {
        #expect(Duration.seconds(2).nanoseconds == 2_000_000_000)
        #expect(Duration.milliseconds(1_500).nanoseconds == 1_500_000_000)
        #expect(Duration.nanoseconds(-7).nanoseconds == -7)
        #expect((Duration.nanoseconds(1) / 2).nanoseconds == 0)
        #expect(Duration.seconds(Int64.max / 1_000_000_000).nanoseconds == Int64.max / 1_000_000_000 * 1_000_000_000)
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.seconds(Int64.min).nanoseconds == .min)
        #expect((Duration.seconds(9_223_372_036) + .nanoseconds(999_999_999)).nanoseconds == .max)
        #expect((Duration.seconds(-9_223_372_036) - .nanoseconds(999_999_999)).nanoseconds == .min)
        #expect(Duration.zero.nanoseconds == 0)
    }

    @Test func secondsAndMillisecondsAsDouble() {
        #expect(Duration.milliseconds(1_500).timeInterval == 1.5)
        #expect(Duration.seconds(-3).timeInterval == -3)
        #expect(Duration.microseconds(250).milliseconds == 0.25)
        #expect(Duration.seconds(2).milliseconds == 2_000)
        #expect(Duration.zero.timeInterval == 0)
        #expect(Duration.seconds(Int64.max).timeInterval == Double(Int64.max))
    }
}
