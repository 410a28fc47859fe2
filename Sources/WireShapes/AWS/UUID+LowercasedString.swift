public import Foundation
import SealedSupport

extension UUID {
    /// The UUID in the form KMS key ids and AWS request ids use: 36 characters, lower-case hex with dashes
    /// (`1234abcd-12ab-34cd-56ef-1234567890ab`).
    ///
    /// The same text as `uuidString.lowercased()`, formatted straight from the 16 bytes: it runs several times for
    /// every request the server answers.
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { output in
                var index = 0
                for (position, byte) in bytes.enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        output[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    output[index] = Hex.digit(byte >> 4)
                    output[index + 1] = Hex.digit(byte & 0x0F)
                    index += 2
                }
                return index
            }
        }
    }

    /// A random (version 4) UUID, its bytes from one `getentropy` call: Foundation's `UUID()` on Linux opens, reads and
    /// closes `/dev/urandom` for each one, and the server mints two ids for every request.
    public static func random() -> UUID { Random.uuid() }
}
