/// One HTTP request, fully received (body included) before a handler sees it.
public struct Request: Sendable {
    public let method: HTTPMethod
    /// The percent-decoded path without the query string, e.g. `/api/items/i1/log`.
    public let path: String
    public let query: QueryParameters
    public let headers: HTTPHeaders
    /// The body, at most `HTTPServerConfiguration.maxBodySize` bytes.
    public let body: [UInt8]
    /// Values captured by `{name}` segments of the matched route pattern.
    public internal(set) var pathParameters: [String: String]

    public init(
        method: HTTPMethod,
        path: String,
        query: QueryParameters = QueryParameters(),
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        pathParameters: [String: String] = [:]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
    }

    /// The value of path parameter `name`; throws 500 if the route pattern has no such segment
    /// (a programming error, not the client's).
    public func pathParameter(_ name: String) throws -> String {
        guard let value = pathParameters[name] else {
            throw HTTPError(
                .internalServerError,
                code: "internal_error",
                message: "route for \(path) has no path parameter '\(name)'"
            )
        }
        return value
    }

    /// The body parsed as JSON; 400 `malformed_json` when it is not.
    public func json() throws(JSONParseError) -> JSONValue {
        try JSONValue.parse(body)
    }

    /// The body as a JSON object ready for typed reads; 400 when it is not an object.
    ///
    /// `emptyIsObject` lets endpoints whose body is optional accept no body at all as `{}`.
    public func jsonFields(emptyIsObject: Bool = false) throws -> JSONFields {
        if emptyIsObject, body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return JSONFields(JSONObject())
        }
        return try JSONFields(json())
    }
}
