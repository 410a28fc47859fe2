public import EventBus
import NATS
import Synchronization

extension JetStreamTransport {
    public func createTopic(_ topic: TopicConfiguration) async throws -> TopicInfo {
        try await awaitConnection()
        try topic.validate()
        let stream = streamName(topic.name)
        if try await streamInfo(stream) != nil { throw BusError.topicExists(topic.name) }
        var duplicateWindow = configuration.duplicateWindow
        if let seconds = topic.retentionSeconds { duplicateWindow = min(duplicateWindow, .seconds(seconds)) }
        let config = StreamConfig(
            name: stream,
            subjects: [subject(topic.name)],
            maxBytes: Int64(topic.retentionBytes ?? -1),
            maxAge: .seconds(topic.retentionSeconds ?? 0),
            storage: .file,
            replicas: configuration.replicas,
            duplicateWindow: duplicateWindow,
            discard: .old
        )
        let info: StreamInfo
        do {
            info = try await jetStream.createStream(config)
        } catch let error as JetStreamError where error.code == .streamNameInUse || error.code == .subjectsOverlap {
            throw BusError.topicExists(topic.name)
        } catch let error as JetStreamError where error.code == .storageResourcesExceeded {
            throw BusError.invalidArgument(
                "retentionBytes is more than the JetStream servers can store (\(error.errorDescription))"
            )
        } catch {
            throw Self.map(error)
        }
        _ = state.withLock { $0.knownStreams.insert(stream) }
        return topicInfo(info, name: topic.name)
    }

    public func deleteTopic(named name: String) async throws {
        try await awaitConnection()
        try TopicConfiguration.validateName(name, what: "topic name")
        let stream = streamName(name)
        do {
            try await jetStream.deleteStream(stream)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw BusError.noSuchTopic(name)
        } catch {
            throw Self.map(error)
        }
        state.withLock { state in
            state.knownStreams.remove(stream)
            state.knownConsumers = state.knownConsumers.filter { $0.stream != stream }
            state.deliveries = state.deliveries.filter { $0.key.stream != stream }
        }
    }

    public func topics() async throws -> [TopicInfo] {
        try await awaitConnection()
        let prefix = configuration.subjectPrefix + "."
        let streams: [StreamInfo]
        do {
            streams = try await jetStream.streams(subject: "\(configuration.subjectPrefix).>")
        } catch {
            throw Self.map(error)
        }
        var result: [TopicInfo] = []
        for info in streams {
            guard info.config.subjects.count == 1, let subject = info.config.subjects.first, subject.hasPrefix(prefix)
            else { continue }
            let name = String(subject.dropFirst(prefix.count))
            guard (try? TopicConfiguration.validateName(name)) != nil, streamName(name) == info.config.name else {
                continue
            }
            result.append(topicInfo(info, name: name))
        }
        return result.sorted { $0.configuration.name < $1.configuration.name }
    }

    public func topic(named name: String) async throws -> TopicInfo? {
        try await awaitConnection()
        try TopicConfiguration.validateName(name, what: "topic name")
        return try await streamInfo(streamName(name)).map { topicInfo($0, name: name) }
    }

    // MARK: - Streams

    /// The topic's stream name, checking once that it exists.
    func requireStream(_ topic: String) async throws -> String {
        let stream = streamName(topic)
        if state.withLock({ $0.knownStreams.contains(stream) }) { return stream }
        guard try await streamInfo(stream) != nil else { throw BusError.noSuchTopic(topic) }
        _ = state.withLock { $0.knownStreams.insert(stream) }
        return stream
    }

    func streamInfo(_ stream: String) async throws -> StreamInfo? {
        do {
            return try await jetStream.streamInfo(stream)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            return nil
        } catch {
            throw Self.map(error)
        }
    }

    func topicInfo(_ info: StreamInfo, name: String) -> TopicInfo {
        let maxAge = info.config.maxAge.components.seconds
        let empty = info.state.messages == 0
        return TopicInfo(
            configuration: TopicConfiguration(
                name: name,
                retentionSeconds: maxAge > 0 ? Int(maxAge) : nil,
                retentionBytes: info.config.maxBytes > 0 ? Int(info.config.maxBytes) : nil
            ),
            eventCount: Int(info.state.messages),
            firstOffset: empty ? nil : info.state.firstSequence,
            lastOffset: empty ? nil : info.state.lastSequence,
            bytes: Int(info.state.bytes)
        )
    }
}
