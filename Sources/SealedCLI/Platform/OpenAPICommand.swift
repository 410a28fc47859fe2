import ArgumentParser
import Foundation
import Server

/// `sealed openapi`: prints the OpenAPI 3.1 document of the `/v1` API that this binary's server serves at
/// `GET /v1/openapi.json` (compiled in; no server needed).
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the OpenAPI 3.1 document of the /v1 API (what the server serves at GET /v1/openapi.json)."
    )

    func run() {
        FileHandle.standardOutput.write(Data(OpenAPIDocument.bytes))
    }
}
