import ErrorModel

// The transport's errors in the model every module shares: the CLI prints them like any other,
// and the server's one kind → status table agrees with the statuses they carry.

extension JSONParseError: WhiskerError {
    public var errorKind: ErrorKind { .invalidInput }
    public var identifier: String { code }
}

extension JSONFieldError: WhiskerError {
    public var errorKind: ErrorKind { .invalidInput }
    public var identifier: String { code }
}

extension HTTPError: WhiskerError {
    public var errorKind: ErrorKind {
        switch status {
        case .notFound: .notFound
        case .conflict: .conflict
        case .forbidden, .unauthorized: .forbidden
        case .gone: .gone
        case .serviceUnavailable: .shuttingDown
        case .internalServerError: .internalError
        case .unprocessableContent: .toolFailed
        default: .invalidInput
        }
    }
    public var identifier: String { code }
}

extension HTTPServerError: WhiskerError {
    public var errorKind: ErrorKind { code == .alreadyStarted ? .internalError : .environment }
    public var identifier: String {
        switch code {
        case .resolveFailed: "resolve_failed"
        case .bindFailed: "bind_failed"
        case .daemonFailed: "server_failed"
        case .alreadyStarted: "server_already_started"
        }
    }
}

extension HTTPClientError: WhiskerError {
    public var errorKind: ErrorKind {
        switch code {
        case .badURL: .invalidInput
        case .status(404): .notFound
        case .status(401), .status(403): .forbidden
        case .status: .invalidInput
        case .connectFailed, .io, .timedOut, .malformedResponse: .environment
        }
    }
    public var identifier: String {
        switch code {
        case .badURL: "bad_server_url"
        case .connectFailed: "server_unreachable"
        case .io: "connection_failed"
        case .timedOut: "server_timed_out"
        case .malformedResponse: "bad_server_answer"
        case .status(let status): "server_status_\(status)"
        }
    }
}
