import Hummingbird

/// The HTTP floor of this machine for scripts/bench: a bare Hummingbird route that echoes its body.
///
/// usage: echo-server PORT
let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 18_099
let router = Router()
router.post("/") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    return Response(status: .ok, headers: [.contentType: "application/x-amz-json-1.1"], body: .init(byteBuffer: body))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
