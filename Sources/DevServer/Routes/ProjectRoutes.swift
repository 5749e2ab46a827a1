import Foundation
import HTTP
import Hotpatch

/// The pipeline's endpoints — builds, patches, diffs, symbols and devices — over one
/// `ProjectSession`: the one place where requests, JSON shapes and status codes meet the session.
///
/// Each handler reads its request into the session's typed inputs, calls the session and encodes
/// the answer with `RecordJSON`; `SessionError`s become statuses through
/// `SessionError.httpStatuses`. Create one per session: it parks requests on the session's events.
public struct ProjectRoutes: RouteCollection, Sendable {
    let session: ProjectSession
    let json: RecordJSON
    let parked = ParkedRequests()

    public init(session: ProjectSession) {
        self.session = session
        self.json = RecordJSON(configuration: session.configuration)
        session.observe(parked.wake(on:))
    }

    public func register(on router: inout Router) {
        registerBuilds(on: &router)
        registerPatches(on: &router)
        registerInspection(on: &router)
        registerDevices(on: &router)
        registerDeviceState(on: &router)
    }

    /// `GET /api/status` without the server block (the core route adds it).
    public func statusJSON() -> JSONObject {
        json.status(session.status())
    }

    /// `?device=ID` on the event stream: that device's own events and jump tables; 404 for an
    /// unknown device.
    public func eventFilter(for request: Request) throws -> EventFilter? {
        guard let deviceId = request.query["device"] else { return nil }
        _ = try session.device(deviceId)
        return { event in
            if event.name.hasPrefix("server.") || event.name.hasPrefix("replay.") { return event }
            guard event.name == "jump-table" || event.name.hasPrefix("device.") else { return nil }
            return event.data.objectValue?["device"]?.stringValue == deviceId ? event : nil
        }
    }

    /// `?wait=true`: answers when the job has finished — its resource, or 422 when it did not
    /// succeed. `state` reads the job's state, its resource and its failure; `nil` while unknown.
    /// With `finished`, `state` may be slow (it links): it runs off the HTTP thread and off the
    /// session's event executor (which wakes the wait) once `finished` says the job is done.
    func waitForJob(
        key: String, kind: String, finished: (@Sendable () -> Bool)? = nil,
        state: @escaping @Sendable () -> (JobState, JSONValue, JobFailure?)?
    ) -> Response {
        parked.jobs.wait(
            for: key, timeout: .seconds(3600),
            onTimeout: { Response(error: HTTPError(.gatewayTimeout, code: "timeout", message: "\(kind) \(key) did not finish within an hour")) },
            ready: {
                if let finished {
                    guard finished() else { return nil }
                    return .offThread {
                        guard let answer = state() else { throw HTTPError.notFound(kind, id: key) }
                        return Self.jobAnswer(answer, key: key, kind: kind)
                    }
                }
                guard let answer = state(), answer.0.isFinished else { return nil }
                return Self.jobAnswer(answer, key: key, kind: kind)
            })
    }

    /// A finished job's answer: its resource, or 422 with its failure.
    private static func jobAnswer(_ answer: (JobState, JSONValue, JobFailure?), key: String, kind: String) -> Response {
        let (jobState, resource, failure) = answer
        if jobState == .succeeded { return .json(resource) }
        let output = failure?.diagnostics.map { "\n\($0)" } ?? ""
        // A cancelled job (asked to, or finding nothing to patch) is the server's state,
        // not the request's content: 409; a failed one is 422.
        return Response(error: HTTPError(
            jobState == .cancelled ? .conflict : .unprocessableContent, code: "\(kind)_\(jobState.rawValue)",
            message: (failure?.message ?? "\(kind) \(key) was \(jobState.rawValue)") + output,
            hint: "\(kind) \(key); GET /api/\(kind)es/\(key) for details".replacingOccurrences(of: "buildes", with: "builds")))
    }

    /// The patch named by the `{id}` path parameter; `patch_not_found` when it is no patch number.
    func patch(_ request: Request) throws -> PatchRecord {
        let text = try request.pathParameter("id")
        guard let id = Int(text), let record = session.patchRecord(id) else { throw SessionError.notFound("patch", id: text) }
        return record
    }

    /// A `"0x…"` query parameter; 400 `invalid_query` when it is something else.
    static func optionalHex(_ request: Request, _ name: String) throws -> UInt64? {
        guard let text = request.query[name] else { return nil }
        guard let value = HexAddress.parse(text) else {
            throw HTTPError.badRequest(code: "invalid_query", "\(name) must be a hex address like 0x55d0c0a01234")
        }
        return value
    }

    /// The process an answer is for: `?device=ID`'s, else `?aslrReference=0x…`, else none.
    func reference(_ request: Request) throws -> UInt64? {
        if let device = request.query["device"] { return try session.device(device).aslrReference }
        return try Self.optionalHex(request, "aslrReference")
    }
}
