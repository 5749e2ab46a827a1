import HTTP

extension ProjectRoutes {
    func registerInspection(on router: inout Router) {
        router.post("/api/diffs", runs: .offThread) { request in
            let body = try request.jsonFields()
            try body.rejectUnknownFields(allowed: ["old", "new"])
            let diff = try session.diff(old: try body.nonEmptyString("old"), new: try body.nonEmptyString("new"))
            return .json(RecordJSON.diff(diff))
        }
        router.get("/api/symbols", runs: .offThread) { request in
            let limit = Int(try request.query.int("limit", in: 1...10_000) ?? 100)
            let listing = try session.symbols(build: request.query["build"], matching: request.query["match"], limit: limit)
            return .json(RecordJSON.symbols(listing))
        }
    }
}
