/// LAN-mode access control: every request needs the token, given as `Authorization: Bearer
/// <token>` or, for tiny device clients, `?token=<token>` — except routes registered
/// `Router.Access.open` (`/healthz`, the status page's static files, so a browser can load the
/// page and ask for the token) and the router's fallback, and those only outside the protected
/// prefixes.
public struct BearerTokenAuth: Sendable {
    public let token: String
    /// Path prefixes that always need the token, whatever a route there was registered as (and
    /// an unknown path there is a 401, not a 404): `/api` covers every API route and the SSE stream.
    public let protectedPrefixes: [String]

    public init(token: String, protectedPrefixes: [String] = ["/api"]) {
        self.token = token
        self.protectedPrefixes = protectedPrefixes
    }

    /// Whether `path` lies under a protected prefix, segment by segment as the router matches:
    /// `//api/status` and `/api/` are under `/api`, `/apis` is not.
    public func isProtected(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return protectedPrefixes.contains { prefix in
            let prefixSegments = prefix.split(separator: "/", omittingEmptySubsequences: true)
            return segments.count >= prefixSegments.count && zip(segments, prefixSegments).allSatisfy { $0 == $1 }
        }
    }

    /// `nil` when `request` may pass, else the 401 to answer with. `routeAccess`: what the
    /// router says of the route the request leads to (`Router.access`).
    public func check(_ request: Request, routeAccess: Router.Access = .token) -> HTTPError? {
        guard routeAccess == .token || isProtected(request.path) else { return nil }
        let header = request.headers["Authorization"]
        let presented: String?
        if let header, header.lowercased().hasPrefix("bearer ") {
            presented = String(header.dropFirst("bearer ".count)).trimmingSpaces()
        } else {
            presented = request.query["token"]
        }
        guard let presented else {
            return unauthorized("this server runs in LAN mode and needs its token")
        }
        guard Self.constantTimeEquals(presented, token) else {
            return unauthorized("the token does not match this server's token")
        }
        return nil
    }

    private func unauthorized(_ message: String) -> HTTPError {
        HTTPError(
            .unauthorized,
            code: "unauthorized",
            message: message,
            hint: "send 'Authorization: Bearer <token>' or '?token=<token>'; the token is printed when the server starts",
            headers: ["WWW-Authenticate": "Bearer realm=\"whisker-dev\""]
        )
    }

    /// Whether `presented` is `expected`, in time that depends only on `expected`'s length: every
    /// byte of the expected token is compared (against 0 past the end of a shorter guess) with
    /// no early exit, so timing reveals neither how much of a guess was right nor its length.
    static func constantTimeEquals(_ presented: String, _ expected: String) -> Bool {
        let guess = Array(presented.utf8)
        let secret = Array(expected.utf8)
        var difference: UInt8 = guess.count == secret.count ? 0 : 1
        for index in secret.indices {
            // A branch-free read of the guess: its index is clamped, the mask zeroes what lies past it.
            let inside = index < guess.count
            let byte = guess.isEmpty ? 0 : guess[min(index, guess.count - 1)]
            difference |= (byte & (inside ? 0xFF : 0)) ^ secret[index]
        }
        return difference == 0
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return String(view)
    }
}
