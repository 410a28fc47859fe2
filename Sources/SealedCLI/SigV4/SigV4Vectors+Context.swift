internal import Foundation
internal import SealedSupport
internal import SigV4

extension SigV4Vectors {
    /// `context.json` of a CRT-layout case, or the suite's fixed inputs for a classic-layout one.
    struct Context: Decodable {
        struct Credentials: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var token: String?

            enum CodingKeys: String, CodingKey {
                case accessKeyId = "access_key_id"
                case secretAccessKey = "secret_access_key"
                case token
            }

            var sigV4: SigV4.Credentials {
                SigV4.Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: token)
            }
        }

        var credentials: Credentials
        var region: String
        var service: String
        var timestamp: String
        var normalize: Bool
        var signBody: Bool
        var expirationInSeconds: Int?
        var omitSessionToken: Bool?
        var signedBodyValue: String?

        enum CodingKeys: String, CodingKey {
            case credentials, region, service, timestamp, normalize
            case signBody = "sign_body"
            case expirationInSeconds = "expiration_in_seconds"
            case omitSessionToken = "omit_session_token"
            case signedBodyValue = "signed_body_value"
        }

        /// The suite README's fixed signing inputs, with `normalize` on, for classic-layout cases.
        static let fixed = Context(
            credentials: Credentials(
                accessKeyId: "AKIDEXAMPLE",
                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token: nil
            ),
            region: "us-east-1",
            service: "service",
            timestamp: "2015-08-30T12:36:00Z",
            normalize: true,
            signBody: false,
            expirationInSeconds: 3600,
            omitSessionToken: nil,
            signedBodyValue: nil
        )

        /// The signing time; SigV4 dates have four-digit years.
        var date: Date {
            get throws(CheckFailure) {
                guard let date = ISO8601.parse(timestamp),
                    (-62_167_219_200...253_402_300_799).contains(date.timeIntervalSince1970)
                else { throw CheckFailure("context.json: timestamp \"\(timestamp)\" is not an ISO 8601 UTC time") }
                return date
            }
        }

        /// `date/region/service/aws4_request` for the signing time.
        var scope: String {
            get throws(CheckFailure) {
                "\(Timestamp(try date).dateStamp)/\(region)/\(service)/aws4_request"
            }
        }

        /// `expiration_in_seconds`, which query mode needs, within SigV4's 1 second to 7 days.
        var presignedLifetime: Int {
            get throws(CheckFailure) {
                guard let expirationInSeconds else {
                    throw CheckFailure("context.json has no expiration_in_seconds for query signing")
                }
                guard (1...604_800).contains(expirationInSeconds) else {
                    throw CheckFailure(
                        "context.json: expiration_in_seconds \(expirationInSeconds) is not 1 s to 7 days"
                    )
                }
                return expirationInSeconds
            }
        }

        /// `signed_body_value` as a payload: `UNSIGNED-PAYLOAD` or a hex SHA-256; `nil` to hash the body.
        var signedBodyPayload: Payload? {
            get throws(CheckFailure) {
                guard let signedBodyValue else { return nil }
                if signedBodyValue == Payload.unsigned.value { return .unsigned }
                guard let payload = Payload.sha256(hex: signedBodyValue) else {
                    throw CheckFailure("context.json: signed_body_value \"\(signedBodyValue)\" is not supported")
                }
                return payload
            }
        }

        /// Whether the session token is added after signing, so a presigned URL carrying it cannot verify.
        var tokenAddedAfterSigning: Bool { omitSessionToken == true && credentials.token != nil }

        var pathCanonicalization: PathCanonicalization { normalize ? .normalized : .unnormalized }

        var signerOptions: Signer.Options {
            Signer.Options(
                pathCanonicalization: pathCanonicalization,
                addsPayloadHashHeader: signBody,
                signsSessionToken: omitSessionToken != true
            )
        }

        /// A verifier that knows this case's key only, with its clock at the signing time.
        func verifier(now: Date) -> Verifier {
            let accessKeyId = credentials.accessKeyId
            let secret = Verifier.Secret(secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.token)
            return Verifier(
                region: region,
                services: [service],
                // `post-unsigned-payload` declares UNSIGNED-PAYLOAD; the other cases never do.
                options: Verifier.Options(pathCanonicalization: pathCanonicalization, allowsUnsignedPayload: true),
                now: { now },
                credentials: { $0 == accessKeyId ? secret : nil }
            )
        }
    }
}
