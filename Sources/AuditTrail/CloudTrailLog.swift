import SealedSupport

/// A CloudTrail log file as CloudTrail delivers it to S3 (after gunzip): `{"Records": [record, …]}`.
public enum CloudTrailLog {
    /// The records of one log file, all or none: a file whose JSON or any record of which is malformed yields none.
    ///
    /// - Throws: ``AuditError`` `malformedRecord`, naming the first problem (the record's index).
    public static func records(json: [UInt8]) throws(AuditError) -> [Record] {
        guard let document = try? JSONParser.parse(json) else {
            throw Record.malformed("the log file is not JSON")
        }
        guard case .array(let list)? = document["Records"] else {
            throw Record.malformed("the log file has no Records array")
        }
        var records: [Record] = []
        records.reserveCapacity(list.count)
        for (index, value) in list.enumerated() {
            do {
                records.append(try Record(jsonValue: value))
            } catch let error as AuditError {
                throw AuditError(error.code, "record \(index): \(error.message)")
            } catch {
                throw Record.malformed("record \(index) cannot be read")
            }
        }
        return records
    }

    /// Whether `record` is a KMS call on one of `keys` (key ids, the forms ``Record/keyIdentifier(_:)`` gives).
    public static func isUse(_ record: Record, ofAnyOf keys: Set<String>) -> Bool {
        record.eventSource == .kms && record.keyIdentifiers.contains(where: keys.contains)
    }
}
