extension EventHub {
    /// The SSE response for `GET /api/events`: replays what the client missed (its
    /// `Last-Event-ID` header or `?lastEventId=`), then streams live events.
    public func subscribe(_ request: Request, filter: EventFilter? = nil) throws -> Response {
        // Present means an id: an empty or signed value is as wrong as a word (`^[0-9]+$`), in
        // either place; the header wins when both are sent.
        var lastSeen: UInt64?
        for text in [request.query["lastEventId"], request.headers["Last-Event-ID"]].compactMap({ $0 }) {
            guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw HTTPError(
                    .badRequest,
                    code: "invalid_last_event_id",
                    message: "Last-Event-ID must be an event id (a non-negative integer), got '\(text)'",
                    hint: "send back the 'id:' of the last event received"
                )
            }
            // Beyond 64 bits is an id from the future: replayed as `replay.incomplete`.
            lastSeen = UInt64(text) ?? .max
        }
        return try subscribe(lastEventID: lastSeen, filter: filter)
    }

    /// The SSE response replaying events after `lastEventID` (none when `nil`) and then streaming
    /// live ones through `filter`. 503 after `shutdown()`.
    ///
    /// When the log no longer holds every missed event (or the id is from the future, e.g. from
    /// before a restart that reset ids), an `event: replay.incomplete` without an `id:` precedes
    /// the replay so the client knows to reload its state.
    public func subscribe(lastEventID: UInt64?, filter: EventFilter? = nil) throws -> Response {
        let stream: ResponseStream? = state.withLock { state in
            guard !state.closed else { return nil }
            // Replay and registration happen under the publish lock: nothing is missed or doubled.
            var initial = [Array("retry: \(configuration.retryMilliseconds)\n\n".utf8)]
            if let lastEventID {
                let newest = state.nextID - 1
                let oldest = state.log.first?.event.id ?? state.nextID
                if lastEventID > newest || lastEventID + 1 < oldest {
                    let notice: JSONValue = [
                        "lastEventId": .string(String(lastEventID)),
                        "oldestAvailable": .string(String(oldest)),
                        "newest": .string(String(newest)),
                    ]
                    initial.append(Array("event: replay.incomplete\ndata: \(notice.jsonText)\n\n".utf8))
                }
                for logged in state.log where logged.event.id > lastEventID {
                    if let bytes = Subscriber.bytes(for: logged, filter: filter) { initial.append(bytes) }
                }
            }
            // The replay may be larger than the queue limit; the limit applies to what comes after.
            let replayBytes = initial.reduce(0) { $0 + $1.count }
            let stream = ResponseStream(capacity: configuration.subscriberQueueCapacity + replayBytes)
            for bytes in initial { stream.write(bytes) }
            state.subscribers.append(Subscriber(stream: stream, filter: filter))
            return stream
        }
        guard let stream else { throw HTTPError.shuttingDown }
        return .stream(stream, contentType: MediaType.eventStream, headers: [
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        ])
    }

    /// Sends a final `server.shutdown` event, ends every stream after its queued bytes, and
    /// refuses new subscribers. Call before `HTTPServer.stop()`, which waits for the streams.
    public func shutdown(reason: String = "the server is shutting down") {
        stopHeartbeat()
        publish("server.shutdown", ["reason": .string(reason)])
        let subscribers = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [] }
            return state.subscribers
        }
        for subscriber in subscribers { subscriber.stream.finish() }
    }
}
