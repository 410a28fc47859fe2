import HTTPTypes

extension HTTPField.Name {
    /// `X-Amz-Target: TrentService.<Operation>`.
    static let amzTarget = HTTPField.Name("X-Amz-Target")!
    /// The signing time.
    static let amzDate = HTTPField.Name("X-Amz-Date")!
    /// The request id AWS answers every request with.
    static let amznRequestID = HTTPField.Name("x-amzn-RequestId")!
    /// `Host`, present among the fields when a client (or the router test client) sends it as a field.
    static let hostHeader = HTTPField.Name("Host")!
}
