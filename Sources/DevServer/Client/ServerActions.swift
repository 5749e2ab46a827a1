import Foundation
import HTTP

/// What `whisker-dev revert` and `whisker-dev restart` ask of a running `whisker-dev serve`: the
/// same requests as the status page's buttons, with the answer read back as one line of text.
public struct ServerActions: Sendable {
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    /// Reverts every device of the build to the code before `patch`
    /// (`POST /api/patches/{id}/revert`); `patch` nil reverts the newest succeeded patch. With
    /// `wait`, answers once the revert has finished and fails unless it succeeded.
    public func revert(patch: Int?, wait: Bool) throws(HTTPClientError) -> String {
        let target: Int
        if let patch { target = patch } else { target = try newestSucceededPatch() }
        return try finishRevert(client.send(.post, "/api/patches/\(target)/revert\(wait ? "?wait=true" : "")", timeout: .seconds(300)),
                                what: "patch \(target)")
    }

    /// Every device of the current build (or of `build`) back on the fat build's code
    /// (`POST /api/builds/{id}/revert`).
    public func revertToFatBuild(_ build: String?, wait: Bool) throws(HTTPClientError) -> String {
        let id: String
        if let build { id = build } else { id = try currentBuild() }
        return try finishRevert(client.send(.post, "/api/builds/\(HTTPClient.pathSegment(id))/revert\(wait ? "?wait=true" : "")", timeout: .seconds(300)),
                                what: "build \(id)")
    }

    /// `POST /api/restart`: a fat build, after which every app restarts into it. With `wait`,
    /// answers once the build has finished and fails unless it succeeded.
    public func restart(wait: Bool, pollEvery interval: TimeInterval = 0.25) throws(HTTPClientError) -> String {
        let response = try client.send(.post, "/api/restart")
        guard response.status == 202 else { throw response.error() }
        let build = try response.json()
        guard let id = build["id"]?.stringValue else {
            throw HTTPClientError(.malformedResponse, "POST /api/restart answered without a build id")
        }
        guard wait else { return "build \(id) queued; every app restarts into it once it succeeds" }
        while true {
            let answer = try client.get("/api/builds/\(id)")
            guard answer.status == 200 else { throw answer.error() }
            let record = try answer.json()
            switch record["state"]?.stringValue {
            case "succeeded":
                let ms = record["durationMs"]?.intValue.map { " in \($0) ms" } ?? ""
                return "build \(id) succeeded\(ms); every app of an older build restarts into it"
            case "failed", "cancelled":
                let state = record["state"]?.stringValue ?? "failed"
                let message = record["error"]?["message"]?.stringValue.map { ": \($0)" } ?? ""
                throw HTTPClientError(.status(422), "build \(id) \(state)\(message); the apps keep running their build",
                                      hint: "GET /api/builds/\(id)/log has the build's output")
            default:
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }

    /// "patch 7 (reverts #5 → #4's code) succeeded", or the server's error.
    private func finishRevert(_ response: HTTPClientResponse, what: String) throws(HTTPClientError) -> String {
        guard response.status == 202 || response.status == 200 else {
            // `?wait=true` answers 422 with the record's error when the revert failed.
            throw response.error()
        }
        let record = try response.json()
        let id = record["id"]?.intValue.map { "patch \($0)" } ?? "a revert"
        let to = record["revertTo"]?.intValue.map { "#\($0)'s code" } ?? "the fat build's code"
        let state = record["state"]?.stringValue ?? "queued"
        return "\(id) reverts \(what) → \(to): \(state)"
    }

    private func newestSucceededPatch() throws(HTTPClientError) -> Int {
        let response = try client.get("/api/patches")
        guard response.status == 200 else { throw response.error() }
        let patches = try response.json()["patches"]?.arrayValue ?? []
        let succeeded = patches.filter { $0["state"]?.stringValue == "succeeded" }.compactMap { $0["id"]?.intValue }
        guard let newest = succeeded.max() else {
            throw HTTPClientError(.status(404), "no patch has succeeded yet: there is nothing to revert",
                                  hint: "GET /api/patches lists them")
        }
        return Int(newest)
    }

    private func currentBuild() throws(HTTPClientError) -> String {
        let response = try client.get("/api/status")
        guard response.status == 200 else { throw response.error() }
        guard let id = try response.json()["build"]?["id"]?.stringValue else {
            throw HTTPClientError(.status(409), "the server has no build yet", hint: "wait for serve's first build")
        }
        return id
    }
}
