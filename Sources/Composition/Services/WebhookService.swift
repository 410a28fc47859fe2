public import AccessControl
import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle

/// Runs the ``AccessControl/WebhookDispatcher`` until graceful shutdown, over HTTP (AsyncHTTPClient): its own client,
/// made when the service starts and shut down when it stops, which follows no redirect and gives up on a receiver
/// after 5 seconds to connect and 10 to answer, and delivers to public addresses only unless `privateAddresses`
/// (``WebhookAddresses``).
public struct WebhookService: Service {
    let dispatcher: WebhookDispatcher
    let privateAddresses: Bool
    let logger: Logger

    public init(dispatcher: WebhookDispatcher, privateAddresses: Bool = false, logger: Logger) {
        self.dispatcher = dispatcher
        self.privateAddresses = privateAddresses
        self.logger = logger
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPWebhookTransport.configuration)
        await cancelWhenGracefulShutdown { [dispatcher] in
            await dispatcher.run(over: HTTPWebhookTransport(client: client, privateAddresses: privateAddresses))
        }
        do {
            try await client.shutdown()
        } catch {
            logger.warning("the webhook HTTP client did not shut down cleanly", metadata: ["error": "\(error)"])
        }
    }

    /// The delivery report the platform logs: team, event, delivery, attempts, outcome; never the URL or the secret.
    static func log(_ delivery: WebhookDelivery, to logger: Logger) {
        let metadata: Logger.Metadata = [
            "team": "\(delivery.team)", "event": "\(delivery.event)", "delivery": "\(delivery.id)",
            "request": "\(delivery.requestID)", "attempts": "\(delivery.attempts.count)",
        ]
        if delivery.state == .delivered {
            logger.info("webhook delivered", metadata: metadata)
        } else {
            logger.warning(
                "webhook delivery failed",
                metadata: metadata.merging(["failure": "\(delivery.failure ?? "")"]) { $1 }
            )
        }
    }
}

/// One signed POST over AsyncHTTPClient; an error's words name its kind only, never the URL.
struct HTTPWebhookTransport: WebhookTransport {
    let client: HTTPClient
    /// Whether non-public receivers are allowed (``WebhookAddresses``).
    let privateAddresses: Bool

    static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // A refused connection is one failed attempt, retried on the policy's schedule, not inside the client.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        configuration.httpVersion = .http1Only
        return configuration
    }

    /// The most of a receiver's answer read (and dropped).
    static let maximumAnswerBytes = 64 * 1024

    func post(_ body: [UInt8], to url: String, headers: [(String, String)]) async throws(WebhookTransportError) -> Int
    {
        if !privateAddresses {
            // getaddrinfo blocks: off the cooperative pool.
            let refusal = await Task.detached { WebhookAddresses.refusal(for: url) }.value
            if let refusal { throw WebhookTransportError("refused: \(refusal)") }
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: Self.maximumAnswerBytes)
            return Int(response.status.code)
        } catch let error as HTTPClientError {
            throw WebhookTransportError("\(error)")
        } catch is CancellationError {
            throw WebhookTransportError("cancelled")
        } catch {
            throw WebhookTransportError("connection failed (\(type(of: error)))")
        }
    }
}
