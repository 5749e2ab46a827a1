/// The one place that turns any thrown error into an HTTP response.
///
/// Order: mappers added with `add(_:)` (newest first), then `HTTPResponseError` conformance,
/// then a 500 `internal_error` carrying the error's description. The application registers one
/// mapper per module whose errors have their own shape (a `code` of the module's own type rather
/// than the HTTP `code` string), instead of scattering `catch` blocks over its handlers.
public struct ErrorMapping: Sendable {
    /// Returns the HTTP form of errors it knows, `nil` for the rest.
    public typealias Mapper = @Sendable (any Error) -> (any HTTPResponseError)?

    private var mappers: [Mapper] = []

    public init() {}

    public mutating func add(_ mapper: @escaping Mapper) {
        mappers.insert(mapper, at: 0)
    }

    public func httpError(for error: any Error) -> any HTTPResponseError {
        for mapper in mappers {
            if let mapped = mapper(error) { return mapped }
        }
        if let known = error as? any HTTPResponseError { return known }
        return HTTPError(
            .internalServerError,
            code: "internal_error",
            message: String(describing: error),
            hint: "this is a bug in whisker-dev; the server log has details"
        )
    }

    public func response(for error: any Error) -> Response {
        Response(error: httpError(for: error))
    }
}
