import Hummingbird
import HummingbirdCore

/// Numbers a caller puts in a query string, parsed strictly: decimal digits only (no sign, exponent, hexadecimal,
/// `nan` or `inf`), within the range the route documents. Anything else is a `ValidationException` (400) naming the
/// parameter and its range, so no caller-supplied number reaches a conversion that could trap.
struct QueryParameters {
    let parameters: FlatDictionary<Substring, Substring>

    init(_ parameters: FlatDictionary<Substring, Substring>) { self.parameters = parameters }

    /// The integer parameter `name` in `range`, or `fallback` when it is absent.
    func integer<T: FixedWidthInteger>(_ name: String, in range: ClosedRange<T>, default fallback: T) throws -> T {
        guard let text = parameters[Substring(name)] else { return fallback }
        guard Self.isDigits(text), let value = T(text), range.contains(value) else {
            throw Self.invalid(name, "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The parameter `name` as seconds with at most three decimals (`0`, `2.5`), at most `maximum`, as a duration; or
    /// `fallback` when it is absent.
    func seconds(_ name: String, maximum: Int, default fallback: Duration) throws -> Duration {
        guard let text = parameters[Substring(name)] else { return fallback }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let fraction = parts.count == 2 ? parts[1] : ""
        guard Self.isDigits(parts[0]), parts[0].count <= 9, let whole = Int(parts[0]),
            parts.count == 1 || (Self.isDigits(fraction) && fraction.count <= 3)
        else {
            throw Self.invalid(name, "a number of seconds from 0 to \(maximum) (at most 3 decimals)")
        }
        var milliseconds = whole * 1000
        var scale = 100
        for digit in fraction.utf8 {
            milliseconds += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        guard milliseconds <= maximum * 1000 else {
            throw Self.invalid(name, "a number of seconds from 0 to \(maximum) (at most 3 decimals)")
        }
        return .milliseconds(milliseconds)
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private static func invalid(_ name: String, _ expected: String) -> PlatformRequestError {
        PlatformRequestError(code: "ValidationException", message: "The query parameter \(name) must be \(expected).")
    }
}
