extension JSONParseError: HTTPResponseError {
    public var status: HTTPStatus { .badRequest }
    public var code: String { "malformed_json" }
    public var message: String { description }
    public var hint: String? { "send a single valid JSON document (UTF-8, no duplicate keys)" }
}

extension JSONFieldError: HTTPResponseError {
    public var status: HTTPStatus { .badRequest }
    public var code: String {
        switch problem {
        case .missing: "missing_field"
        case .wrongType, .invalid: "invalid_field"
        }
    }
    public var message: String { description }
    public var hint: String? { "see openapi/openapi.yaml for the request schema" }
}
