/// Content types the server sends, and the mapping from file extensions for static files.
public enum MediaType {
    public static let json = "application/json"
    public static let plainText = "text/plain; charset=utf-8"
    public static let eventStream = "text/event-stream"
    public static let octetStream = "application/octet-stream"

    /// The content type for a file name, by extension; unknown ones are `application/octet-stream`.
    public static func forFile(named name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return octetStream }
        switch name[name.index(after: dot)...].lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json", "map": return json
        case "txt", "log": return plainText
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "woff": return "font/woff"
        case "wasm": return "application/wasm"
        case "yaml", "yml": return "application/yaml"
        case "webmanifest": return "application/manifest+json"
        default: return octetStream
        }
    }
}
