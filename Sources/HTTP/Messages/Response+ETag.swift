extension Response {
    /// Adds `ETag: "<tag>"` and turns the response into a bodiless 304 when the request's
    /// `If-None-Match` already names that tag (a content digest makes a good tag).
    public func withETag(_ tag: String, for request: Request) -> Response {
        let quoted = "\"\(tag)\""
        var response = self
        if let header = request.headers["If-None-Match"] {
            let presented = header.split(separator: ",").map { $0.trimmingCharacters(in: " \t") }
            if presented.contains(quoted) || presented.contains("W/" + quoted) || presented.contains("*") {
                response = Response(status: .notModified, body: .empty)
            }
        }
        response.headers.set("ETag", quoted)
        return response
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        var view = self
        while let first = view.first, characters.contains(first) { view.removeFirst() }
        while let last = view.last, characters.contains(last) { view.removeLast() }
        return String(view)
    }
}
