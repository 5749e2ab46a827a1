import DevServer
import HTTP
import Foundation
import Testing

/// Static files from `web/` (content types, no escape from the root) and LAN-mode bearer auth.
@Suite struct StaticFilesAndAuthTests {
    /// A web root beside a secret file, plus symlinks pointing in and out of the root.
    static func makeSite() throws -> TemporaryDirectory {
        let site = try TemporaryDirectory()
        try site.write("secret.txt", "TOP-SECRET")
        try site.write("web/index.html", "<!doctype html><title>whisker</title>")
        try site.write("web/app.js", "export const answer = 42;")
        try site.write("web/css/site.css", "body { color: black }")
        try site.write("web/docs/index.html", "docs index")
        try site.write("web/.env", "HIDDEN")
        #expect(symlink(site.path + "/secret.txt", site.path + "/web/escape.txt") == 0)
        #expect(symlink(site.path + "/web/app.js", site.path + "/web/alias.js") == 0)
        return site
    }

    @Test func servesIndexAndFilesWithContentTypes() throws {
        let site = try Self.makeSite()
        try withTestApp(webRoot: site.path + "/web") { app, _ in
            let index = try TestHTTPClient.get(port: app.port, "/")
            #expect(index.status == 200)
            #expect(index.header("Content-Type") == "text/html; charset=utf-8")
            #expect(index.text == "<!doctype html><title>whisker</title>")

            let script = try TestHTTPClient.get(port: app.port, "/web/app.js")
            #expect(script.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(script.text == "export const answer = 42;")
            #expect(try TestHTTPClient.get(port: app.port, "/app.js").text == script.text)

            let css = try TestHTTPClient.get(port: app.port, "/web/css/site.css")
            #expect(css.header("Content-Type") == "text/css; charset=utf-8")
            #expect(try TestHTTPClient.get(port: app.port, "/docs/").text == "docs index")
            #expect(try TestHTTPClient.get(port: app.port, "/alias.js").text == script.text)
        }
    }

    @Test(arguments: [
        "/../secret.txt",
        "/web/../../secret.txt",
        "/web/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/secret.txt",
        "/web/..%2fsecret.txt",
        "/escape.txt",
        "/web/escape.txt",
        "/.env",
        "/web/./app.js",
        "/nothing-here.html",
        "/web/app.js%00.html",
    ])
    func pathsOutsideTheRootOrHiddenAre404(path: String) throws {
        let site = try Self.makeSite()
        try withTestApp(webRoot: site.path + "/web") { app, _ in
            let response = try TestHTTPClient.get(port: app.port, path)
            #expect(response.status == 404, "\(path) → \(response.status)")
            #expect(!response.text.contains("TOP-SECRET"))
            #expect(!response.text.contains("HIDDEN"))
            #expect(response.errorCode == "not_found")
        }
    }

    @Test func staticFilesRefuseOtherMethods() throws {
        let site = try Self.makeSite()
        try withTestApp(webRoot: site.path + "/web") { app, _ in
            let response = try TestHTTPClient.request(port: app.port, "PUT", "/app.js", body: [1])
            #expect(response.status == 405)
            #expect(response.header("Allow") == "GET, HEAD")
        }
    }

    @Test func lanModeRequiresTheTokenOnAPIRoutesOnly() throws {
        let site = try Self.makeSite()
        try withTestApp(lanToken: "s3cret-token", webRoot: site.path + "/web") { app, _ in
            let missing = try TestHTTPClient.get(port: app.port, "/api/status")
            #expect(missing.status == 401)
            #expect(missing.errorCode == "unauthorized")
            #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)

            let wrong = try TestHTTPClient.get(port: app.port, "/api/status", headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401)
            let prefix = try TestHTTPClient.get(port: app.port, "/api/status", headers: [("Authorization", "Bearer s3cret")])
            #expect(prefix.status == 401)

            let bearer = try TestHTTPClient.get(port: app.port, "/api/status", headers: [("Authorization", "Bearer s3cret-token")])
            #expect(bearer.status == 200)
            #expect(try bearer.json()["server"]?["lan"] == true)
            #expect(try TestHTTPClient.get(port: app.port, "/api/status?token=s3cret-token").status == 200)

            // Unknown API routes and bad bodies do not leak past auth.
            #expect(try TestHTTPClient.get(port: app.port, "/api/whatever").status == 401)
            #expect(try TestHTTPClient.post(port: app.port, "/api/test/echo", json: "{").status == 401)
            #expect(try TestHTTPClient.get(port: app.port, "/api").status == 401)

            // Health and the status page stay open.
            #expect(try TestHTTPClient.get(port: app.port, "/healthz").status == 200)
            #expect(try TestHTTPClient.get(port: app.port, "/").status == 200)
            #expect(try TestHTTPClient.get(port: app.port, "/web/app.js").status == 200)
        }
    }

    @Test func lanModeProtectsTheEventStream() throws {
        try withTestApp(lanToken: "tok") { app, _ in
            #expect(try TestHTTPClient.get(port: app.port, "/api/events").status == 401)
            let client = try SSETestClient(port: app.port, headers: [("Authorization", "Bearer tok")])
            #expect(client.status == 200)
            let viaQuery = try SSETestClient(port: app.port, path: "/api/events?token=tok")
            #expect(viaQuery.status == 200)
        }
    }

    @Test func withoutAWebRootUnknownPathsAre404JSON() throws {
        try withTestApp { app, _ in
            let response = try TestHTTPClient.get(port: app.port, "/")
            #expect(response.status == 404)
            #expect(response.errorCode == "not_found")
        }
    }
}
