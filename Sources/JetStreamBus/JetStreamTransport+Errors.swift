import EventBus
import NATS

extension JetStreamTransport {
    /// The bus error for a NATS or JetStream error: transient conditions are ``BusError/Code/unavailable``
    /// (callers retry), bad input ``BusError/Code/invalidArgument``, anything else a storage failure.
    static func map(_ error: any Error) -> BusError {
        switch error {
        case let error as BusError:
            return error
        case let error as NATSError:
            switch error.code {
            case .maxPayloadExceeded: return BusError(.payloadTooLarge, error.reason)
            case .invalidArgument: return BusError(.invalidArgument, error.reason)
            case .connectionClosed: return BusError(.closed, error.reason)
            // A JetStream reply that cannot be read.
            case .malformedResponse: return BusError(.storageFailure, error.reason)
            default: return BusError(.unavailable, "NATS: \(error)")
            }
        case let error as JetStreamError:
            switch error.code {
            case .temporarilyUnavailable, .insufficientResources, .noSuitablePeers:
                return BusError(.unavailable, "JetStream: \(error.errorDescription)")
            case .invalidStreamConfig, .replicasNotSupported:
                return BusError(.invalidArgument, "JetStream: \(error.errorDescription)")
            default:
                if error.status == 503 { return BusError(.unavailable, "JetStream: \(error.errorDescription)") }
                return BusError(.storageFailure, "JetStream: \(error)")
            }
        default:
            return BusError(.storageFailure, "JetStream transport: \(type(of: error))")
        }
    }
}
