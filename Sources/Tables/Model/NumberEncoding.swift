/// DynamoDB numbers: their validation and an encoding whose bytes compare as the numbers do.
///
/// A number travels as text (`"12.50"`, `"-1e3"`). DynamoDB keeps up to 38 significant digits, with a magnitude from
/// 1E-130 up to (not including) 1E126, and compares numbers by value, so `1`, `1.0` and `10E-1` are the same key.
///
/// The encoding writes a number `±0.d₁d₂…dₙ × 10ᵉ` (no leading or trailing zero digit) as: a sign byte (`1`
/// negative, `2` zero, `3` positive), then, for a positive number, `e + 129` and each digit plus one; for a negative
/// one the same bytes inverted (`255 - b`), ending with `255`, so that a longer magnitude sorts first. Comparing the
/// encodings with `memcmp` (shorter first on a common prefix) orders the numbers.
enum NumberEncoding {
    /// Why a text is not a DynamoDB number.
    enum Problem: Error, Sendable {
        case notANumber, overflow, underflow, precision

        var error: TableError {
            switch self {
            case .notANumber: .validation("The parameter cannot be converted to a numeric value")
            case .overflow:
                .validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
            case .underflow:
                .validation(
                    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
                )
            case .precision: .validation("Attempting to store more than 38 significant digits in a Number")
            }
        }
    }

    static let maximumDigits = 38
    /// The decimal exponent `e` of `0.d × 10ᵉ` ranges over -129…126 (1E-130 ≤ |x| < 1E126).
    static let minimumExponent = -129
    static let maximumExponent = 126

    /// The encoding of `text`, or `nil` when it is not a valid DynamoDB number.
    static func encode(_ text: String) -> [UInt8]? { try? parse(text) }

    /// The encoding of `text`.
    ///
    /// - Throws: ``Problem`` when `text` is not a number (optional sign, digits with an optional fraction, optional
    ///   exponent), has more than 38 significant digits, or is out of range.
    static func parse(_ text: String) throws(Problem) -> [UInt8] {
        var utf8 = Array(text.utf8)[...]
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var digits: [UInt8] = []
        var pointPosition = 0
        var sawPoint = false
        var sawDigit = false
        while let byte = utf8.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            utf8 = utf8.dropFirst()
            if byte == UInt8(ascii: ".") {
                guard !sawPoint else { throw .notANumber }
                sawPoint = true
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                sawDigit = true
                digits.append(byte - UInt8(ascii: "0"))
                if !sawPoint { pointPosition += 1 }
            } else {
                throw .notANumber
            }
        }
        guard sawDigit else { throw .notANumber }
        var exponent = 0
        if !utf8.isEmpty {
            utf8 = utf8.dropFirst()  // the e
            var exponentNegative = false
            if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
                exponentNegative = first == UInt8(ascii: "-")
                utf8 = utf8.dropFirst()
            }
            guard !utf8.isEmpty else { throw .notANumber }
            for byte in utf8 {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw .notANumber }
                // Past a few thousand the number is out of range whatever its digits: stop growing.
                if exponent < 100_000 { exponent = exponent * 10 + Int(byte - UInt8(ascii: "0")) }
            }
            if exponentNegative { exponent = -exponent }
        }
        guard let firstSignificant = digits.firstIndex(where: { $0 != 0 }) else { return [2] }
        let lastSignificant = digits.lastIndex(where: { $0 != 0 })!
        let significant = digits[firstSignificant...lastSignificant]
        guard significant.count <= maximumDigits else { throw .precision }
        let e = pointPosition - firstSignificant + exponent
        guard e <= maximumExponent else { throw .overflow }
        guard e >= minimumExponent else { throw .underflow }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(significant.count + 3)
        if negative {
            encoded.append(1)
            encoded.append(UInt8(255 - (e - minimumExponent)))
            for digit in significant { encoded.append(254 - digit) }
            encoded.append(255)
        } else {
            encoded.append(3)
            encoded.append(UInt8(e - minimumExponent))
            for digit in significant { encoded.append(digit + 1) }
        }
        return encoded
    }
}
