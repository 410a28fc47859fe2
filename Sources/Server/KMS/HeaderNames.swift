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
    /// The payload line a SigV4 client signed: a body's SHA-256, or `UNSIGNED-PAYLOAD`.
    static let amzContentSHA256 = HTTPField.Name("x-amz-content-sha256")!
}

extension HTTPFields {
    /// The value of the field named `name`, as `self[name]` reads it (repeated fields joined), without building the
    /// joined sequence when the field appears once or not at all: a few of these run on every request.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
