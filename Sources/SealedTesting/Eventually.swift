/// Waits until `condition` holds, checking every `interval`; fails after `limit` so a broken component cannot hang
/// the suite. (A guard against hangs, not a statement about speed.)
///
/// - Throws: ``FixtureError`` naming `what` when `limit` passes first, or what `condition` throws.
public func eventually(
    _ what: String,
    limit: Duration = .seconds(60),
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw FixtureError(description: "gave up waiting for: \(what)")
}
