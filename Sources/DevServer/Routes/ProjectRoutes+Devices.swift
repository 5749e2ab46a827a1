import HTTP

extension ProjectRoutes {
    func registerDevices(on router: inout Router) {
        router.post("/api/devices", runs: .offThread) { request in
            let device = try session.registerDevice(DeviceRegistration(try request.jsonFields()))
            var headers = HTTPHeaders()
            headers.set("Location", "/api/devices/\(device.id)")
            return .json(json.device(device), status: .created, headers: headers)
        }
        router.get("/api/devices") { _ in
            .json(["devices": .array(session.visibleDevices.map(json.device))])
        }
        router.get("/api/devices/{id}") { request in
            .json(json.device(try session.device(try request.pathParameter("id"))))
        }
        router.delete("/api/devices/{id}") { request in
            try session.removeDevice(try request.pathParameter("id"))
            return .noContent
        }
        router.get("/api/devices/{id}/patches") { request in
            let id = try request.pathParameter("id")
            let after = Int(try request.query.int("after", in: 0...Int64(Int32.max)) ?? 0)
            let wait = Int(try request.query.int("wait", in: 0...60) ?? 0)
            try session.beginPatchPoll(deviceId: id)
            return parked.devicePolls.wait(
                for: id, timeout: .seconds(wait),
                onTimeout: {
                    session.deviceSeen(id)
                    return .json(["patches": []])
                },
                ready: {
                    if let restart = session.takeRestart(for: id) { return .json(RecordJSON.restart(restart)) }
                    return session.takePendingPatches(for: id, after: after).map { .json(RecordJSON.pendingPatches($0, deviceId: id)) }
                })
        }
        router.post("/api/devices/{id}/acks") { request in
            let id = try request.pathParameter("id")
            // An unknown device is a 404 whatever its body says.
            _ = try session.device(id)
            try session.acknowledge(deviceId: id, DeviceAck(try request.jsonFields()))
            return .noContent
        }
        router.post("/api/devices/{id}/logs") { request in
            let id = try request.pathParameter("id")
            _ = try session.device(id)
            try session.recordLogs(deviceId: id, DeviceLogBatch(try request.jsonFields()))
            return .noContent
        }
        router.get("/api/devices/{id}/logs") { request in
            let id = try request.pathParameter("id")
            let since = Int(try request.query.int("since", in: 0...Int64(Int32.max)) ?? 0)
            return .json(RecordJSON.deviceLogs(try session.deviceLogs(id, since: since), deviceId: id))
        }
    }
}
