#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Fills `buffer` (at most 256 bytes) from the kernel's CSPRNG with one `getentropy` call.
///
/// The standard library's generator makes a system call per 8 bytes and Foundation's `UUID()` opens, reads and closes
/// `/dev/urandom`; message ids, request ids and event ids are drawn for every message and request, where those calls
/// show. Falls back to the standard library's generator should `getentropy` fail.
package func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
    precondition(buffer.count <= 256, "getentropy gives at most 256 bytes per call")
    guard let base = buffer.baseAddress else { return }
    if getentropy(base, buffer.count) == 0 { return }
    var generator = SystemRandomNumberGenerator()
    for index in buffer.indices { buffer[index] = generator.next() }
}

/// `count` (at most 256) random bytes; see ``fillRandom(_:)``.
func randomBytes(_ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
        fillRandom(UnsafeMutableRawBufferPointer(bytes))
        initialized = count
    }
}
