internal import Foundation
internal import SigV4

/// The signer's checks of one case: canonical request, string to sign, signature, `Authorization` and the signed
/// request, in header or query mode.
extension SigV4Vectors.Case {
    func runSigner(_ mode: Mode, context: Context, recorder: inout Recorder) async {
        let prefix = mode.rawValue + "/"
        let prepared: (unsigned: Request, canonical: String, stringToSign: String, signature: String, signed: Request)
        do throws(CheckFailure) {
            let signedFile = file(mode, "signed-request.txt", classic: "sreq")
            prepared = (
                try request(unsignedFile),
                try text(file(mode, "canonical-request.txt", classic: "creq")),
                try text(file(mode, "string-to-sign.txt", classic: "sts")),
                try expectedSignature(mode),
                try request(signedFile)
            )
        } catch {
            recorder.record(prefix + "sign", .failure(error))
            return
        }
        let (unsigned, expectedCanonical, expectedStringToSign, expectedSignature, expectedSigned) = prepared

        let date: Date
        let payload: Payload?
        do throws(CheckFailure) {
            date = try context.date
            payload = try context.signedBodyPayload
        } catch {
            recorder.record(prefix + "sign", .failure(error))
            return
        }
        let signer = Signer(options: context.signerOptions)
        let credentials = context.credentials.sigV4

        // The checks of both modes, recorded first.
        func compare(canonical: String, stringToSign: String, signature: String) async {
            await recorder.check(prefix + "canonical request") { () async throws(CheckFailure) in
                try expectEqual(canonical, expectedCanonical)
            }
            await recorder.check(prefix + "string to sign") { () async throws(CheckFailure) in
                try expectEqual(stringToSign, expectedStringToSign)
            }
            await recorder.check(prefix + "signature") { () async throws(CheckFailure) in
                try expectEqual(signature, expectedSignature)
            }
        }

        switch mode {
        case .header:
            var request = unsigned
            if let payload { request.payload = payload }
            let result = signer.sign(
                request,
                credentials: credentials,
                region: context.region,
                service: context.service,
                date: date
            )
            await compare(
                canonical: result.canonicalRequest,
                stringToSign: result.stringToSign,
                signature: result.signature
            )
            await recorder.check(prefix + "authorization") { () async throws(CheckFailure) in
                try expectEqual(result.authorization, try expectedAuthorization(signed: expectedSigned))
            }
            await recorder.check(prefix + "signed request") { () async throws(CheckFailure) in
                try expectSameHeaders(applying(result.headers, to: unsigned.headers), expectedSigned.headers)
                try expectEqual(
                    "\(unsigned.method) \(unsigned.path)?\(unsigned.query)",
                    "\(expectedSigned.method) \(expectedSigned.path)?\(expectedSigned.query)",
                    what: "request line"
                )
            }
        case .query:
            var request = unsigned
            if let value = context.signedBodyValue, let payload {
                // The retired `post-unsigned-payload` case signs its payload header in query mode too.
                request.headers.append((name: "x-amz-content-sha256", value: value))
                request.payload = payload
            }
            let lifetime: Int
            do throws(CheckFailure) {
                lifetime = try context.presignedLifetime
            } catch {
                recorder.record(prefix + "sign", .failure(error))
                return
            }
            let result = signer.presign(
                request,
                credentials: credentials,
                region: context.region,
                service: context.service,
                date: date,
                expires: .seconds(lifetime)
            )
            await compare(
                canonical: result.canonicalRequest,
                stringToSign: result.stringToSign,
                signature: result.signature
            )
            await recorder.check(prefix + "signed request") { () async throws(CheckFailure) in
                try expectSame(
                    sortedQueryComponents(result.query),
                    sortedQueryComponents(expectedSigned.query),
                    what: "query parameters"
                )
                try expectSameHeaders(request.headers, expectedSigned.headers)
                try expectEqual(unsigned.path, expectedSigned.path, what: "path")
                let expiration = date.addingTimeInterval(TimeInterval(lifetime))
                guard result.expiration == expiration else {
                    throw CheckFailure("expires at \(result.expiration), expected \(expiration)")
                }
            }
        }
    }

    /// `<mode>-signature.txt`, or the `Signature=` of `NAME.authz`.
    private func expectedSignature(_ mode: Mode) throws(CheckFailure) -> String {
        switch layout {
        case .crt:
            return try text("\(mode.rawValue)-signature.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        case .classic(let baseName):
            let authorization = try text("\(baseName).authz")
            guard let range = authorization.range(of: "Signature=") else {
                throw CheckFailure("\(baseName).authz has no Signature=")
            }
            return String(authorization[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// `NAME.authz`, or the `Authorization` header of `header-signed-request.txt`.
    private func expectedAuthorization(signed: Request) throws(CheckFailure) -> String {
        switch layout {
        case .crt:
            guard let header = signed.headers.last(where: { $0.name.lowercased() == "authorization" }) else {
                throw CheckFailure("header-signed-request.txt has no Authorization header")
            }
            return header.value.trimmingCharacters(in: .whitespaces)
        case .classic(let baseName):
            return try text("\(baseName).authz").trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
