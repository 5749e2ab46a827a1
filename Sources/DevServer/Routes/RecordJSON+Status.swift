import HTTP

extension RecordJSON {
    /// `GET /api/status` without the server block (the core route adds it).
    func status(_ status: SessionStatus) -> JSONObject {
        var object: JSONObject = [
            "project": [
                "name": .string(configuration.project.lastPathComponent),
                "path": .string(configuration.project.path),
                "key": .string(status.projectKey),
            ],
            "toolchain": [
                "rustc": .string(status.toolchain?.release ?? "unknown"),
                "host": .string(status.toolchain?.host ?? "unknown"),
            ],
            "build": status.currentBuild.map(build) ?? status.latestBuild.map(build) ?? .null,
            "queue": .array(status.queue.map { entry in
                [
                    "kind": .string(entry.kind.rawValue),
                    "id": entry.kind == .patch ? .int(Int64(entry.key) ?? 0) : .string(entry.key),
                    "state": entry.running ? "running" : "queued",
                    "queuedAt": Self.timestamp(entry.queuedAt),
                ]
            }),
            "devices": .array(status.devices.map(device)),
            "lastPatch": status.lastPatch.map { patch($0) } ?? .null,
        ]
        if let latestBuild = status.latestBuild, latestBuild.id != status.currentBuild?.id {
            object["latestBuild"] = build(latestBuild)
        }
        object["patchCount"] = .int(Int64(status.patchCount))
        return object
    }
}
