/// An error that can say a service the request depends on (the database) could not be reached: the connection
/// failed or broke, or the server is shutting down or starting. Nothing was done, and the same request may succeed
/// once the service is back, so the server answers it with 503 rather than 500.
///
/// A refusal by the service (a constraint, a malformed statement) or a fault of this program is not unavailability:
/// such errors conform with ``isUnavailability`` `false` and keep their own status.
package protocol DependencyUnavailable: Error {
    /// Whether the service could not be reached, as opposed to having refused or failed the request.
    var isUnavailability: Bool { get }
}
