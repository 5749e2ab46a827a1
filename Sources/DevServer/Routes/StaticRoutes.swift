import HTTP

/// `/` and `/web/{path...}` from the web root; any other unknown GET path is tried there too
/// (router fallback), so `index.html` can use relative links.
struct StaticRoutes: RouteCollection {
    let root: String?

    func register(on router: inout Router) {
        let files = root.map(StaticFiles.init(root:))
        let serve: Router.Handler = { request in
            guard request.path != "/api", !request.path.hasPrefix("/api/") else {
                throw HTTPError(
                    .notFound,
                    code: "not_found",
                    message: "no route for \(request.method) \(request.path)",
                    hint: "see openapi/openapi.yaml for the endpoints"
                )
            }
            guard let files else {
                throw HTTPError(
                    .notFound,
                    code: "not_found",
                    message: "no route for \(request.method) \(request.path)",
                    hint: "this server was started without a web/ directory"
                )
            }
            return try files.response(for: request)
        }
        router.get("/", access: .open, serve)
        router.get("/web/{path...}", access: .open, serve)
        router.fallback = serve
    }
}
