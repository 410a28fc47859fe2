import Hummingbird
import NIOCore
import WireShapes

/// The OpenAPI 3.1 document of the `/v1` API: `Sources/Server/OpenAPI/openapi.json`, written by hand and compiled into
/// the binary (SwiftPM's `embedInCode`), so a copied `sealed` binary serves the very document it was built with.
///
/// The server answers it at `GET /v1/openapi.json` (``WireShapes/PlatformRoute/getOpenAPIDocument``) without a
/// signature, like `GET /health`: it holds no secret. `ServerTests/OpenAPIContractTests` checks that its operations
/// are exactly ``WireShapes/PlatformRoute/all`` (plus itself), and `SchemathesisTests` that a live server answers as
/// it says.
public enum OpenAPIDocument {
    /// The document's bytes, as committed.
    public static var bytes: [UInt8] { PackageResources.openapi_json }

    /// The document, read once into the buffer every answer shares.
    static let buffer = ByteBuffer(bytes: PackageResources.openapi_json)

    /// Registers `GET /v1/openapi.json` on `router`, outside the signed routes.
    static func register<Context: RequestContext>(in router: Router<Context>) {
        let route = PlatformRoute.getOpenAPIDocument
        router.get(RouterPath("/v1/\(route.path)")) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: PlatformJSON.contentType],
                body: ResponseBody(byteBuffer: buffer)
            )
        }
    }
}
