import HTTP

extension ProjectRoutes {
    func registerBuilds(on router: inout Router) {
        router.post("/api/builds") { request in
            let id = try session.enqueueBuild(BuildRequest(try request.jsonFields(emptyIsObject: true)), trigger: .api)
            let key = id.rawValue
            if try request.query.bool("wait") == true {
                return waitForJob(key: key, kind: "build") {
                    session.buildRecord(key).map { ($0.state, json.build($0), $0.error) }
                }
            }
            var headers = HTTPHeaders()
            headers.set("Location", "/api/builds/\(key)")
            return .json(session.buildRecord(key).map(json.build) ?? .null, status: .accepted, headers: headers)
        }
        router.get("/api/builds/{id}/binary", runs: .offThread) { request in
            let binary = try session.binaryFile(ofBuild: try request.pathParameter("id"))
            var response = Response.file(path: binary.path, contentType: MediaType.octetStream)
            response.headers.set("Content-Disposition", "attachment; filename=\"\(binary.name)\"")
            return binary.sha256.map { response.withETag($0, for: request) } ?? response
        }
        router.post("/api/restart") { _ in
            let id = try session.requestRestart()
            var headers = HTTPHeaders()
            headers.set("Location", "/api/builds/\(id.rawValue)")
            return .json(session.buildRecord(id.rawValue).map(json.build) ?? .null, status: .accepted, headers: headers)
        }
        router.get("/api/builds") { _ in
            .json(["builds": .array(session.builds.reversed().map(json.build))])
        }
        router.get("/api/builds/{id}") { request in
            .json(json.build(try session.build(try request.pathParameter("id"))))
        }
        // A cancel is an action on the build, not its removal: the record (its log, its phases)
        // stays, so this is a POST, and `GET /api/builds/{id}` answers as before.
        router.post("/api/builds/{id}/cancel") { request in
            let id = try request.pathParameter("id")
            try session.cancelBuild(id)
            let record = session.buildRecord(id)
            return .json(record.map(json.build) ?? .null, status: record?.state == .cancelled ? .ok : .accepted)
        }
        router.post("/api/builds/{id}/revert", runs: .offThread) { request in
            try revertAnswer(request, id: try session.enqueueRevertToFatBuild(try request.pathParameter("id")))
        }
        router.get("/api/builds/{id}/log", runs: .offThread) { request in
            .text(try session.buildLog(try request.pathParameter("id")))
        }
    }
}
