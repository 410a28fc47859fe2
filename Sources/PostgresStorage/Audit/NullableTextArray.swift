import NIOCore
import PostgresNIO

/// A `text[]` parameter whose elements may be NULL, in PostgreSQL's binary array format (PostgresNIO encodes arrays
/// of non-optional elements only).
///
/// The format: dimensions (1), whether any element is NULL, the element type's OID, the length and lower bound (1),
/// then each element as a 32-bit length (-1 for NULL) and its UTF-8 bytes.
struct NullableTextArray: PostgresNonThrowingEncodable {
    var elements: [String?]

    init(_ elements: [String?]) { self.elements = elements }

    static var psqlType: PostgresDataType { .textArray }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        guard !elements.isEmpty else {
            // An empty array has no dimensions.
            buffer.writeInteger(0, as: Int32.self)
            buffer.writeInteger(0, as: Int32.self)
            buffer.writeInteger(PostgresDataType.text.rawValue)
            return
        }
        buffer.writeInteger(1, as: Int32.self)
        buffer.writeInteger(elements.contains(nil) ? 1 : 0, as: Int32.self)
        buffer.writeInteger(PostgresDataType.text.rawValue)
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            buffer.writeInteger(Int32(element.utf8.count))
            buffer.writeString(element)
        }
    }
}
