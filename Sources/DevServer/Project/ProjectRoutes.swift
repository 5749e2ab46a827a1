import Foundation
import HTTP
import Hotpatch

/// The pipeline's endpoints: builds, patches, diffs, symbols and devices, over one
/// `ProjectSession`.
public struct ProjectRoutes: RouteCollection {
    let session: ProjectSession

    public init(session: ProjectSession) {
        self.session = session
    }

    public func register(on router: inout Router) {
        registerBuilds(on: &router)
        registerPatches(on: &router)
        registerInspection(on: &router)
        registerDevices(on: &router)
    }

    /// `?wait=true` support: answers when the job has finished — its resource, or 422 when it
    /// did not succeed.
    static func waitForJob(
        _ session: ProjectSession, key: String, state: @escaping @Sendable () -> (JobState, JSONValue, JobFailure?)?,
        kind: String
    ) -> Response {
        session.jobWaiters.wait(
            for: key, timeout: .seconds(3600),
            onTimeout: { Response(error: HTTPError(.gatewayTimeout, code: "timeout", message: "\(kind) \(key) did not finish within an hour")) },
            ready: {
                guard let (jobState, resource, failure) = state(), jobState.isFinished else { return nil }
                if jobState == .succeeded { return .json(resource) }
                let output = failure?.diagnostics.map { "\n\($0)" } ?? ""
                return Response(error: HTTPError(
                    .unprocessableContent, code: "\(kind)_\(jobState.rawValue)",
                    message: (failure?.message ?? "\(kind) \(key) was \(jobState.rawValue)") + output,
                    hint: "\(kind) \(key); GET /api/\(kind)es/\(key) for details".replacingOccurrences(of: "buildes", with: "builds")))
            })
    }

    private func registerBuilds(on router: inout Router) {
        router.post("/api/builds") { [session] request in
            let body = try request.jsonFields(emptyIsObject: true)
            for key in body.object.keys where !["profile", "package", "bin", "target", "features"].contains(key) {
                throw HTTPError.badRequest(code: "invalid_field", "unknown field '\(key)'")
            }
            // The project's build settings are the server's (`serve --bin/--release`); a request
            // that asks for others is refused rather than silently ignored.
            if let profile = try body.optionalString("profile"), profile != (session.configuration.release ? "release" : "dev") {
                throw HTTPError.badRequest(code: "invalid_field", "field 'profile' must be '\(session.configuration.release ? "release" : "dev")' for this server")
            }
            let id = try session.enqueueBuild(trigger: .api)
            if try request.query.bool("wait") == true {
                return Self.waitForJob(session, key: id, state: {
                    session.buildRecord(id).map { ($0.state, session.buildJSON($0), $0.error) }
                }, kind: "build")
            }
            var headers = HTTPHeaders()
            headers.set("Location", "/api/builds/\(id)")
            return .json(session.buildRecord(id).map(session.buildJSON) ?? .null, status: .accepted, headers: headers)
        }
        router.get("/api/builds") { [session] _ in
            let builds = session.journal.withLock { $0.builds }
            return .json(["builds": .array(builds.reversed().map(session.buildJSON))])
        }
        router.get("/api/builds/{id}") { [session] request in
            let id = try request.pathParameter("id")
            guard let record = session.buildRecord(id) else { throw HTTPError.notFound("build", id: id) }
            return .json(session.buildJSON(record))
        }
        router.delete("/api/builds/{id}") { [session] request in
            let id = try request.pathParameter("id")
            try session.cancelBuild(id)
            return .json(session.buildRecord(id).map(session.buildJSON) ?? .null, status: .accepted)
        }
        router.get("/api/builds/{id}/log") { [session] request in
            let id = try request.pathParameter("id")
            guard let record = session.buildRecord(id), let buildID = BuildID(id) else { throw HTTPError.notFound("build", id: id) }
            let log = session.layout.build(buildID).log
            guard let text = try? String(contentsOf: log, encoding: .utf8) else {
                return .text(record.error.map { "\($0.message)\n\($0.diagnostics ?? "")" } ?? "")
            }
            return .text(text)
        }
    }

    private func registerPatches(on router: inout Router) {
        router.post("/api/patches") { [session] request in
            let body = try request.jsonFields(emptyIsObject: true)
            for key in body.object.keys where !["build", "aslrReference"].contains(key) {
                throw HTTPError.badRequest(code: "invalid_field", "unknown field '\(key)'")
            }
            if let build = try body.optionalString("build") {
                guard let record = session.buildRecord(build) else { throw HTTPError.notFound("build", id: build) }
                guard record.id == session.currentBuild?.id else {
                    throw HTTPError.conflict(code: "not_current_build", "patches are made against the current build \(session.currentBuild?.id.rawValue ?? "-")")
                }
            }
            let reference = try body.optionalHexAddress("aslrReference")
            let id = try session.enqueuePatch(trigger: .api)
            let key = String(id)
            if try request.query.bool("wait") == true {
                return Self.waitForJob(session, key: key, state: {
                    guard let record = session.patchRecord(id) else { return nil }
                    // A reference in the request gets its own library before answering.
                    if record.state == .succeeded, let reference, record.link(for: reference) == nil {
                        _ = try? session.library(patchId: id, deviceId: nil, aslrReference: reference)
                    }
                    let fresh = session.patchRecord(id) ?? record
                    return (fresh.state, session.patchJSON(fresh, for: reference), fresh.error)
                }, kind: "patch")
            }
            var headers = HTTPHeaders()
            headers.set("Location", "/api/patches/\(id)")
            return .json(session.patchRecord(id).map { session.patchJSON($0) } ?? .null, status: .accepted, headers: headers)
        }
        router.get("/api/patches") { [session] request in
            let since = try request.query.int("since", in: 0...Int64(Int32.max)) ?? 0
            let patches = session.journal.withLock { $0.patches }.filter { $0.id > since }.sorted { $0.id < $1.id }
            return .json(["patches": .array(patches.map { session.patchJSON($0) })])
        }
        router.get("/api/patches/{id}") { [session] request in
            let record = try Self.patch(session, request)
            let reference = try Self.reference(session, request)
            return .json(session.patchJSON(record, for: reference))
        }
        router.delete("/api/patches/{id}") { [session] request in
            let record = try Self.patch(session, request)
            try session.cancelPatch(record.id)
            return .json(session.patchRecord(record.id).map { session.patchJSON($0) } ?? .null, status: .accepted)
        }
        router.get("/api/patches/{id}/library") { [session] request in
            let record = try Self.patch(session, request)
            let link = try session.library(
                patchId: record.id, deviceId: request.query["device"], aslrReference: try Self.optionalHex(request, "aslrReference"))
            guard let bytes = FileManager.default.contents(atPath: link.libraryPath) else {
                throw HTTPError(.gone, code: "library_missing", message: "the library of patch \(record.id) is no longer on disk")
            }
            var response = Response.bytes(Array(bytes), contentType: MediaType.octetStream)
            response.headers.set("Content-Disposition", "attachment; filename=\"\(URL(fileURLWithPath: link.libraryPath).lastPathComponent)\"")
            return response.withETag(link.sha256, for: request)
        }
        router.get("/api/patches/{id}/jump-table") { [session] request in
            let record = try Self.patch(session, request)
            let format = request.query["format"] ?? "whisker"
            guard ["whisker", "subsecond"].contains(format) else {
                throw HTTPError.badRequest(code: "invalid_query", "format must be 'whisker' or 'subsecond'")
            }
            let link = try session.library(
                patchId: record.id, deviceId: request.query["device"], aslrReference: try Self.optionalHex(request, "aslrReference"))
            let text = format == "subsecond" ? link.subsecondJSON : link.jumpTableJSON
            return .json(try JSONValue.parse(Array(text.utf8)))
        }
    }

    private func registerInspection(on router: inout Router) {
        router.post("/api/diffs") { [session] request in
            let body = try request.jsonFields()
            let old = try session.binaryPath(forReference: try body.nonEmptyString("old"))
            let new = try session.binaryPath(forReference: try body.nonEmptyString("new"))
            let report: DiffReport
            do {
                // Objects are compared function by function (masked relocations); linked
                // binaries by name.
                if FunctionDiff.isRelocatableELF(old), FunctionDiff.isRelocatableELF(new) {
                    report = try FunctionDiff.report(old: [old], new: [new])
                } else {
                    report = try DiffReport.between(oldPath: old, newPath: new)
                }
            } catch let error as any HotpatchError {
                throw HTTPError(.unprocessableContent, code: error.code, message: error.message, hint: error.hint)
            }
            var functions: [JSONValue] = []
            for name in report.changed { functions.append(["name": .string(name), "demangled": .string(RustDemangler.demangle(name) ?? name), "change": "changed"]) }
            for name in report.added { functions.append(["name": .string(name), "demangled": .string(RustDemangler.demangle(name) ?? name), "change": "added"]) }
            for name in report.removed { functions.append(["name": .string(name), "demangled": .string(RustDemangler.demangle(name) ?? name), "change": "removed"]) }
            return .json([
                "old": .string(old), "new": .string(new),
                "added": .int(Int64(report.addedCount)), "removed": .int(Int64(report.removedCount)),
                "changed": .int(Int64(report.changed.count)), "unchanged": .int(Int64(report.unchanged.count)),
                "summary": .string(report.summary), "functions": .array(functions),
            ])
        }
        router.get("/api/symbols") { [session] request in
            let buildID = request.query["build"] ?? session.currentBuild?.id.rawValue
            guard let buildID else { throw HTTPError.conflict(code: "no_build", "there is no build yet") }
            guard let record = session.buildRecord(buildID), let build = record.build else {
                throw HTTPError.notFound("build", id: buildID, hint: "only succeeded builds have symbols")
            }
            let limit = Int(try request.query.int("limit", in: 1...100_000) ?? 200)
            let pattern = request.query["match"]?.lowercased()
            let table = try session.cache.symbolTable(forBinaryAt: build.binary, architecture: nil).0
            var matches: [JSONValue] = []
            var total = 0
            for index in table.indices where table.isDefined(at: index) {
                let kind = table.kind(at: index)
                guard kind != .file, kind != .section else { continue }
                let name = table.name(at: index)
                let demangled = table.demangledName(at: index)
                if let pattern, !name.lowercased().contains(pattern), !demangled.lowercased().contains(pattern) { continue }
                total += 1
                guard matches.count < limit else { continue }
                matches.append([
                    "name": .string(name), "demangled": .string(demangled),
                    "address": .string(HexAddress.format(table.address(at: index))), "size": .int(Int64(table.size(at: index))),
                    "kind": .string(kind.rawValue), "binding": .string(table.binding(at: index).rawValue),
                    "section": .string(table.sectionName(at: index)),
                ])
            }
            return .json([
                "build": .string(buildID), "symbols": .array(matches), "total": .int(Int64(total)),
                "truncated": .bool(total > matches.count),
            ])
        }
    }

    private func registerDevices(on router: inout Router) {
        router.post("/api/devices") { [session] request in
            let device = try session.registerDevice(try request.jsonFields())
            var headers = HTTPHeaders()
            headers.set("Location", "/api/devices/\(device.id)")
            return .json(session.deviceJSON(device), status: .created, headers: headers)
        }
        router.get("/api/devices") { [session] _ in
            .json(["devices": .array(session.visibleDevices.map(session.deviceJSON))])
        }
        router.get("/api/devices/{id}") { [session] request in
            let id = try request.pathParameter("id")
            guard let device = session.deviceRecord(id) else { throw HTTPError.notFound("device", id: id) }
            return .json(session.deviceJSON(device))
        }
        router.delete("/api/devices/{id}") { [session] request in
            try session.removeDevice(try request.pathParameter("id"))
            return .noContent
        }
        router.get("/api/devices/{id}/patches") { [session] request in
            let id = try request.pathParameter("id")
            let after = Int(try request.query.int("after", in: 0...Int64(Int32.max)) ?? 0)
            let wait = Int(try request.query.int("wait", in: 0...120) ?? 0)
            return try session.pollPatches(deviceId: id, after: after, wait: wait)
        }
        router.post("/api/devices/{id}/acks") { [session] request in
            try session.acknowledge(deviceId: try request.pathParameter("id"), try request.jsonFields())
            return .noContent
        }
        router.post("/api/devices/{id}/logs") { [session] request in
            try session.recordLogs(deviceId: try request.pathParameter("id"), try request.jsonFields())
            return .noContent
        }
    }

    private static func patch(_ session: ProjectSession, _ request: Request) throws -> PatchRecord {
        let text = try request.pathParameter("id")
        guard let id = Int(text), let record = session.patchRecord(id) else { throw HTTPError.notFound("patch", id: text) }
        return record
    }

    private static func optionalHex(_ request: Request, _ name: String) throws -> UInt64? {
        guard let text = request.query[name] else { return nil }
        guard let value = HexAddress.parse(text) else {
            throw HTTPError.badRequest(code: "invalid_query", "\(name) must be a hex address like 0x55d0c0a01234")
        }
        return value
    }

    private static func reference(_ session: ProjectSession, _ request: Request) throws -> UInt64? {
        if let device = request.query["device"] {
            guard let record = session.deviceRecord(device) else { throw HTTPError.notFound("device", id: device) }
            return record.aslrReference
        }
        return try optionalHex(request, "aslrReference")
    }
}

extension ProjectSession {
    /// A build id, or a path confined to the project, its target dir or the cache dir: a client
    /// never makes the server read elsewhere.
    func binaryPath(forReference reference: String) throws -> String {
        if let record = buildRecord(reference) {
            guard let build = record.build else {
                throw HTTPError.conflict(code: "build_not_ready", "build \(reference) is \(record.state.rawValue)")
            }
            return build.binary
        }
        guard reference.hasPrefix("/") || reference.hasPrefix(".") || reference.contains("/") else {
            throw HTTPError.notFound("build", id: reference)
        }
        let base = reference.hasPrefix("/") ? URL(fileURLWithPath: reference) : configuration.project.appendingPathComponent(reference)
        let resolved = base.standardizedFileURL.resolvingSymlinksInPath().path
        let roots = [configuration.project, configuration.cacheDirectory, layout.targetDirectory].map {
            $0.standardizedFileURL.resolvingSymlinksInPath().path
        }
        guard roots.contains(where: { resolved == $0 || resolved.hasPrefix($0 + "/") }) else {
            throw HTTPError(.forbidden, code: "path_outside_project",
                            message: "\(reference) is outside the project, its target dir and the cache dir",
                            hint: "pass a build id or a path inside \(configuration.project.path)")
        }
        guard FileManager.default.fileExists(atPath: resolved) else {
            throw HTTPError(.notFound, code: "file_not_found", message: "no file at \(reference)")
        }
        return resolved
    }
}
