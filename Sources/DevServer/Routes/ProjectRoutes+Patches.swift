import Foundation
import HTTP
import Hotpatch

extension ProjectRoutes {
    func registerPatches(on router: inout Router) {
        router.post("/api/patches", runs: .offThread) { request in
            let body = try request.jsonFields(emptyIsObject: true)
            let patchRequest = try PatchRequest(body)
            // The process the answer is for: with `?wait=true` it gets its own library first.
            let reference = try body.optionalHexAddress("aslrReference")
            let id = try session.enqueuePatch(patchRequest, trigger: .api)
            if try request.query.bool("wait") == true {
                // Linking for that process may take seconds: not on the thread that wakes the wait.
                let finished: @Sendable () -> Bool = { session.patchRecord(id)?.state.isFinished ?? false }
                return waitForJob(key: String(id), kind: "patch", finished: reference == nil ? nil : finished) {
                    guard let record = session.patchRecord(id) else { return nil }
                    if record.state == .succeeded, let reference, record.link(for: reference) == nil {
                        do {
                            _ = try session.library(patchId: id, deviceId: nil, aslrReference: reference)
                        } catch {
                            // The answer then shows the patch's first library; the log says why.
                            session.logger.warning("patch \(id): no library for the process at \(HexAddress.format(reference)): \(error)")
                        }
                    }
                    let fresh = session.patchRecord(id) ?? record
                    return (fresh.state, json.patch(fresh, for: reference), fresh.error)
                }
            }
            var headers = HTTPHeaders()
            headers.set("Location", "/api/patches/\(id)")
            return .json(session.patchRecord(id).map { json.patch($0) } ?? .null, status: .accepted, headers: headers)
        }
        router.post("/api/patches/{id}/revert", runs: .offThread) { request in
            let record = try patch(request)
            return try revertAnswer(request, id: try session.enqueueRevert(of: record.id))
        }
        router.get("/api/patches") { request in
            let since = try request.query.int("since", in: 0...Int64(Int32.max)) ?? 0
            return .json(["patches": .array(session.patches(after: Int(since)).map { json.patch($0) })])
        }
        router.get("/api/patches/{id}") { request in
            let record = try patch(request)
            return .json(json.patch(record, for: try reference(request)))
        }
        // As a build's cancel: the record stays (POST, not DELETE).
        router.post("/api/patches/{id}/cancel") { request in
            let record = try patch(request)
            try session.cancelPatch(record.id)
            let fresh = session.patchRecord(record.id)
            return .json(fresh.map { json.patch($0) } ?? .null, status: fresh?.state == .cancelled ? .ok : .accepted)
        }
        router.get("/api/patches/{id}/library", runs: .offThread) { request in
            let record = try patch(request)
            let link = try session.library(
                patchId: record.id, deviceId: request.query["device"], aslrReference: try Self.optionalHex(request, "aslrReference"))
            var response = Response.bytes(try session.libraryContents(link, patchId: record.id), contentType: MediaType.octetStream)
            response.headers.set("Content-Disposition", "attachment; filename=\"\(URL(fileURLWithPath: link.libraryPath).lastPathComponent)\"")
            return response.withETag(link.sha256, for: request)
        }
        router.get("/api/patches/{id}/jump-table", runs: .offThread) { request in
            let record = try patch(request)
            let format = request.query["format"] ?? "whisker"
            guard ["whisker", "subsecond"].contains(format) else {
                throw HTTPError.badRequest(code: "invalid_query", "format must be 'whisker' or 'subsecond'")
            }
            let link = try session.library(
                patchId: record.id, deviceId: request.query["device"], aslrReference: try Self.optionalHex(request, "aslrReference"))
            return .json(format == "subsecond" ? RecordJSON.subsecondJumpTable(link.table) : RecordJSON.jumpTable(link.table))
        }
    }

    /// The answer to a revert request: 202 with the new record, or with `?wait=true` the record
    /// once the revert has finished (422 when it did not succeed).
    func revertAnswer(_ request: Request, id: Int) throws -> Response {
        if try request.query.bool("wait") == true {
            return waitForJob(key: String(id), kind: "patch") {
                session.patchRecord(id).map { ($0.state, json.patch($0), $0.error) }
            }
        }
        var headers = HTTPHeaders()
        headers.set("Location", "/api/patches/\(id)")
        return .json(session.patchRecord(id).map { json.patch($0) } ?? .null, status: .accepted, headers: headers)
    }
}
