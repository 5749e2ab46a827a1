import Synchronization

/// Fans published events out to SSE subscribers, keeps a bounded replay log, and sends heartbeats.
///
/// ```swift
/// let id = hub.publish("job.started", ["job": 3])
/// router.get("/api/events") { request in try hub.subscribe(request) }
/// ```
/// Each subscriber has its own bounded queue (a `ResponseStream`); one that stops reading is
/// dropped when its queue overflows and never slows publishing or the other subscribers.
public final class EventHub: Sendable {
    /// Limits and timings.
    public struct Configuration: Sendable {
        /// Events kept for `Last-Event-ID` replay.
        public var replayLimit: Int
        /// Interval of the `: heartbeat` comment that keeps idle connections and proxies alive
        /// and reveals dead clients.
        public var heartbeatInterval: Duration
        /// Bytes queued for one subscriber before it is dropped.
        public var subscriberQueueCapacity: Int
        /// Reconnection delay suggested to browsers (`retry:`).
        public var retryMilliseconds: Int

        public init(
            replayLimit: Int = 1000,
            heartbeatInterval: Duration = .seconds(15),
            subscriberQueueCapacity: Int = 1 << 20,
            retryMilliseconds: Int = 2000
        ) {
            self.replayLimit = replayLimit
            self.heartbeatInterval = heartbeatInterval
            self.subscriberQueueCapacity = subscriberQueueCapacity
            self.retryMilliseconds = retryMilliseconds
        }
    }

    final class Subscriber: Sendable {
        let stream: ResponseStream
        let filter: EventFilter?

        init(stream: ResponseStream, filter: EventFilter?) {
            self.stream = stream
            self.filter = filter
        }

        /// Queues `logged` as this subscriber sees it; `false` when the subscriber is gone.
        func send(_ logged: LoggedEvent) -> Bool {
            guard let bytes = Self.bytes(for: logged, filter: filter) else { return stream.isOpen }
            return stream.write(bytes)
        }

        /// The wire form of `logged` through `filter`; `nil` when the filter skips it.
        static func bytes(for logged: LoggedEvent, filter: EventFilter?) -> [UInt8]? {
            guard let filter else { return logged.wire }
            guard let seen = filter(logged.event) else { return nil }
            return seen == logged.event ? logged.wire : seen.wireBytes
        }
    }

    struct LoggedEvent {
        let event: ServerEvent
        let wire: [UInt8]
    }

    struct State {
        var nextID: UInt64
        /// Oldest first; trimmed in batches so publishing stays O(1) amortized.
        var log: [LoggedEvent] = []
        var subscribers: [Subscriber] = []
        var closed = false
    }

    public let configuration: Configuration
    let state: Mutex<State>
    private let heartbeat = Mutex<Scheduler.Job?>(nil)

    /// `firstEventID` lets a restarted server continue the ids of its previous run, so browsers
    /// reconnecting with an old `Last-Event-ID` are not mistaken for being ahead.
    public init(configuration: Configuration = Configuration(), firstEventID: UInt64 = 1) {
        self.configuration = configuration
        self.state = Mutex(State(nextID: max(1, firstEventID)))
        let job = Scheduler.shared.every(max(configuration.heartbeatInterval, .milliseconds(1))) { [weak self] in
            self?.sendHeartbeat()
        }
        heartbeat.withLock { $0 = job }
    }

    deinit {
        stopHeartbeat()
    }

    /// Publishes an event to every subscriber and the replay log; returns its id.
    @discardableResult
    public func publish(_ name: String, _ data: JSONValue = [:]) -> UInt64 {
        let safeName = String(name.filter { $0 != "\n" && $0 != "\r" })
        // Serialize outside the lock; only the id line is added under it.
        let rest = ServerEvent.wireBytes(name: safeName, data: data)
        return state.withLock { state in
            let event = ServerEvent(id: state.nextID, name: safeName, data: data)
            state.nextID += 1
            let logged = LoggedEvent(event: event, wire: Array("id: \(event.id)\n".utf8) + rest)
            state.log.append(logged)
            let limit = max(1, configuration.replayLimit)
            if state.log.count >= limit + max(1, limit / 4) {
                state.log.removeFirst(state.log.count - limit)
            }
            state.subscribers.removeAll { !$0.send(logged) }
            return event.id
        }
    }

    /// The id of the newest event (0 before the first).
    public var lastEventID: UInt64 {
        state.withLock { $0.nextID - 1 }
    }

    /// Subscribers whose streams are still open.
    public var subscriberCount: Int {
        state.withLock { state in
            state.subscribers.removeAll { !$0.stream.isOpen }
            return state.subscribers.count
        }
    }

    /// Events with an id greater than `id` still in the replay log, oldest first.
    public func events(after id: UInt64) -> [ServerEvent] {
        state.withLock { $0.log.filter { $0.event.id > id }.map(\.event) }
    }

    func stopHeartbeat() {
        heartbeat.withLock { job in
            job?.cancel()
            job = nil
        }
    }

    private func sendHeartbeat() {
        let comment = Array(": heartbeat\n\n".utf8)
        state.withLock { state in
            state.subscribers.removeAll { !$0.stream.write(comment) }
        }
    }
}
