import HTTP

/// `/healthz`, `/api/status` and `/api/events`: the routes that exist without the pipeline.
struct CoreRoutes: RouteCollection {
    let events: EventHub
    let status: DevServerApp.StatusProvider
    let eventFilter: DevServerApp.EventFilterProvider
    let startedAt: ContinuousClock.Instant
    let serverInfo: @Sendable () -> HTTPServer?

    func register(on router: inout Router) {
        router.get("/healthz", access: .open) { _ in
            .json(["status": "ok"])
        }

        router.get("/api/status") { [status, events, startedAt, serverInfo] _ in
            var body = try status()
            let uptime = ContinuousClock.now - startedAt
            var server: JSONObject = [
                "uptimeMs": .int(uptime.components.seconds * 1000 + uptime.components.attoseconds / 1_000_000_000_000_000),
                "lastEventId": .int(Int64(clamping: events.lastEventID)),
                "subscribers": .int(Int64(events.subscriberCount)),
            ]
            if let http = serverInfo() {
                server["url"] = .string(http.url)
                server["lan"] = .bool(http.configuration.auth != nil)
            }
            body["server"] = .object(server)
            return .json(.object(body))
        }

        router.get("/api/events") { [events, eventFilter] request in
            try events.subscribe(request, filter: try eventFilter(request))
        }
    }
}
