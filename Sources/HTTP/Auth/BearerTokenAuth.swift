/// LAN-mode access control: requests under the protected prefixes need the token, given as
/// `Authorization: Bearer <token>` or, for tiny device clients, `?token=<token>`.
///
/// `/healthz` and the static status page stay open so a browser can load the page and ask for
/// the token.
public struct BearerTokenAuth: Sendable {
    public let token: String
    /// Path prefixes that need the token; `/api` covers every API route and the SSE stream.
    public let protectedPrefixes: [String]

    public init(token: String, protectedPrefixes: [String] = ["/api"]) {
        self.token = token
        self.protectedPrefixes = protectedPrefixes
    }

    public func isProtected(_ path: String) -> Bool {
        protectedPrefixes.contains { prefix in
            path == prefix || path.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
        }
    }

    /// `nil` when `request` may pass, else the 401 to answer with.
    public func check(_ request: Request) -> HTTPError? {
        guard isProtected(request.path) else { return nil }
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

    /// Compares without an early exit so response timing does not leak the token's prefix.
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
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
