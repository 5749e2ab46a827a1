#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves the status page's files from one directory (`web/`).
///
/// `/` is `index.html`; `/web/app.js` and `/app.js` are both `<root>/app.js` (the first is the
/// documented URL, the second lets `index.html` use plain relative links). A path never leaves the
/// root: `.`/`..` segments, dot-files, NUL and backslashes are refused, symlinks are resolved and
/// the result must still lie inside the resolved root. Anything refused is a plain 404, so probing
/// reveals nothing.
public struct StaticFiles: Sendable {
    /// The directory as given.
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Answers GET/HEAD for `request.path` (a router fallback); 404 JSON when there is no such file.
    public func response(for request: Request) throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw HTTPError(
                .methodNotAllowed,
                code: "method_not_allowed",
                message: "\(request.method) is not allowed on \(request.path)",
                hint: "static files answer GET and HEAD",
                headers: ["Allow": "GET, HEAD"]
            )
        }
        guard let file = resolve(request.path) else {
            throw HTTPError(
                .notFound,
                code: "not_found",
                message: "no route or file for \(request.path)",
                hint: "API routes live under /api; see openapi/openapi.yaml"
            )
        }
        return .file(path: file, contentType: MediaType.forFile(named: file), headers: ["Cache-Control": "no-cache"])
    }

    /// The real path of the regular file `path` names inside the root, or `nil`.
    public func resolve(_ path: String) -> String? {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.first == "web" { segments.removeFirst() }
        for segment in segments {
            guard !segment.hasPrefix("."), !segment.contains("\0"), !segment.contains("\\") else { return nil }
        }
        guard let realRoot = Self.realPath(root) else { return nil }
        var candidate = ([realRoot] + segments.map(String.init)).joined(separator: "/")
        if Self.isDirectory(candidate) { candidate += "/index.html" }
        guard let real = Self.realPath(candidate), real.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") else {
            return nil
        }
        return Self.isRegularFile(real) ? real : nil
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
