/// An error that knows the HTTP response it becomes.
///
/// Every error a handler throws is turned into `{"error": {"code", "message", "hint"}}` in one
/// place (`ErrorMapping`); conforming errors choose their status and wording, anything else
/// becomes a 500. Other modules' errors become HTTP through an `ErrorMapping` mapper registered
/// by the application, so those modules need not know about HTTP.
public protocol HTTPResponseError: Error {
    /// The status code, e.g. 400 for a malformed field.
    var status: HTTPStatus { get }
    /// A stable snake_case identifier clients may switch on, e.g. `"malformed_json"`.
    var code: String { get }
    /// What went wrong, for a human.
    var message: String { get }
    /// How to fix it, when there is something the caller can do.
    var hint: String? { get }
    /// Extra response headers (`Allow` on 405, `WWW-Authenticate` on 401).
    var headers: HTTPHeaders { get }
}

extension HTTPResponseError {
    public var hint: String? { nil }
    public var headers: HTTPHeaders { HTTPHeaders() }

    /// The `{"error": {…}}` body.
    public var errorBody: JSONValue {
        var error: JSONObject = ["code": .string(code), "message": .string(message)]
        if let hint { error["hint"] = .string(hint) }
        return ["error": .object(error)]
    }
}
