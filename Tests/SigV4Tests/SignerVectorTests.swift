import Foundation
import SigV4
import Testing

/// The signer against every case of the AWS SigV4 test suite: canonical request, string to sign, signature and
/// signed request, byte for byte, in header mode and in query mode (presigned URLs).
struct SignerVectorTests {
    @Test("the suite has all 27 cases")
    func suiteIsComplete() throws {
        guard try VectorCase.root() != nil else { return }
        let cases = try VectorCase.all()
        #expect(cases.count == 27)
        #expect(cases.filter(\.isClassic).count == 2)
        #expect(cases.filter { !$0.context.normalize }.count == 5)
    }

    @Test("header signing", arguments: try VectorCase.all())
    func headerSigning(_ vector: VectorCase) throws {
        let context = vector.context
        let unsigned = try vector.unsignedRequest(payload: context.signedBodyValue)
        let signer = Signer(options: context.signerOptions)

        let signature = signer.sign(
            unsigned,
            credentials: context.sigV4Credentials,
            region: context.region,
            service: context.service,
            date: try context.date
        )

        #expect(signature.canonicalRequest == (try vector.canonicalRequest(.header)))
        #expect(signature.stringToSign == (try vector.stringToSign(.header)))
        #expect(signature.signature == (try vector.signature(.header)))
        #expect(signature.authorization == (try vector.authorization()))

        // The signed request is the unsigned one with the signer's headers set (order is not part of the suite).
        let expected = try vector.signedRequest(.header)
        #expect(
            normalizedHeaderSet(applying(signature.headers, to: unsigned.headers))
                == normalizedHeaderSet(expected.headers)
        )
        #expect(expected.method == unsigned.method)
        #expect(expected.path == unsigned.path)
        #expect(expected.query == unsigned.query)
    }

    @Test("query signing (presigned URL)", arguments: try VectorCase.presigned())
    func querySigning(_ vector: VectorCase) throws {
        let context = vector.context
        let unsigned = try vector.unsignedRequest()
        var request = unsigned
        if let value = context.signed_body_value {
            // The retired `post-unsigned-payload` case signs its payload header in query mode too.
            request.headers.append((name: "x-amz-content-sha256", value: value))
            request.payload = try #require(context.signedBodyValue)
        }
        let signer = Signer(options: context.signerOptions)

        let signature = signer.presign(
            request,
            credentials: context.sigV4Credentials,
            region: context.region,
            service: context.service,
            date: try context.date,
            expires: .seconds(context.expiration_in_seconds)
        )

        #expect(signature.canonicalRequest == (try vector.canonicalRequest(.query)))
        #expect(signature.stringToSign == (try vector.stringToSign(.query)))
        #expect(signature.signature == (try vector.signature(.query)))
        #expect(
            signature.expiration == (try context.date).addingTimeInterval(TimeInterval(context.expiration_in_seconds))
        )

        let expected = try vector.signedRequest(.query)
        #expect(sortedQueryComponents(signature.query) == sortedQueryComponents(expected.query))
        #expect(normalizedHeaderSet(request.headers) == normalizedHeaderSet(expected.headers))
        #expect(expected.path == unsigned.path)
    }

    @Test("the signing key cache does not change any signature", arguments: try VectorCase.all())
    func cacheIsTransparent(_ vector: VectorCase) throws {
        let context = vector.context
        let request = try vector.unsignedRequest(payload: context.signedBodyValue)
        let cache = SigningKeyCache()
        let cached = Signer(options: context.signerOptions, keyCache: cache)
        let uncached = Signer(options: context.signerOptions, keyCache: nil)

        func signature(_ signer: Signer) throws -> String {
            signer.sign(
                request,
                credentials: context.sigV4Credentials,
                region: context.region,
                service: context.service,
                date: try context.date
            ).signature
        }
        let fresh = try signature(uncached)
        #expect(try signature(cached) == fresh)  // derives and stores the key
        #expect(try signature(cached) == fresh)  // uses the stored key
        #expect(fresh == (try vector.signature(.header)))
        #expect(cache.count == 1)
    }
}
