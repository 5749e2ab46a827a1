import CMicroHTTPD
import Synchronization

/// Delivers the answer of a deferred request; the first `respond` or `fail` wins.
///
/// Safe to call from any thread, and more than once: later calls return `false`, which makes
/// "answer on the event or on the timeout, whichever comes first" a two-liner for long polls.
public final class Responder: Sendable {
    private enum State {
        /// Waiting for an answer; `connection` is set once libmicrohttpd's connection is suspended.
        case pending(connection: MHDConnection?)
        case resolved(Response)
        case delivered
    }

    private let state = Mutex(State.pending(connection: nil))
    private let errorMapping: ErrorMapping
    /// Told of every error that becomes a 5xx, as the server logs a handler's (off-thread work and
    /// parked waits fail here, not in the handler).
    private let serverError: @Sendable (any Error) -> Void

    init(errorMapping: ErrorMapping, serverError: @escaping @Sendable (any Error) -> Void = { _ in }) {
        self.errorMapping = errorMapping
        self.serverError = serverError
    }

    /// `true` once an answer has been given.
    public var isResolved: Bool {
        state.withLock { if case .pending = $0 { false } else { true } }
    }

    /// Answers with `response`; `false` if the request was already answered.
    ///
    /// A deferred `response` hands the request on: its `start` gets this responder (and its
    /// timeout starts now), so deferred answers compose — work run off the HTTP thread may end in
    /// a long poll, and a long poll's `ready` may hand its answer to `Response.offThread`.
    @discardableResult
    public func respond(_ response: Response) -> Bool {
        if case .deferred(let next) = response.body {
            guard !isResolved else { return false }
            if let timeout = next.timeout {
                respond(after: timeout) { Response(error: HTTPError.deferredTimeout(timeout)) }
            }
            next.start(self)
            return true
        }
        return state.withLock { state in
            guard case .pending(let connection) = state else { return false }
            state = .resolved(response)
            // Resume under the lock: the MHD thread suspends under the same lock, so it can
            // never miss this wake-up nor be resumed before it was suspended.
            if let connection { MHD_resume_connection(connection.handle) }
            return true
        }
    }

    /// Answers with the error response for `error`; `false` if already answered.
    @discardableResult
    public func fail(_ error: any Error) -> Bool {
        let mapped = errorMapping.httpError(for: error)
        if mapped.status.code >= 500, !isResolved { serverError(error) }
        return respond(Response(error: mapped))
    }

    /// Answers with `response()` after `delay` unless answered before (long-poll timeouts).
    public func respond(after delay: Duration, with response: @escaping @Sendable () -> Response) {
        Scheduler.shared.after(delay) { [weak self] in
            guard let self, !self.isResolved else { return }
            self.respond(response())
        }
    }

    // MARK: used by the server on libmicrohttpd's thread

    /// Suspends `connection` unless the answer is already there, which is then returned.
    func suspendOrTake(_ pointer: OpaquePointer) -> Response? {
        let connection = MHDConnection(handle: pointer)
        return state.withLock { state in
            switch state {
            case .pending(nil):
                MHD_suspend_connection(connection.handle)
                state = .pending(connection: connection)
                return nil
            case .resolved(let response):
                state = .delivered
                return response
            case .pending, .delivered:
                return nil
            }
        }
    }

    /// The answer after the connection was resumed.
    func take() -> Response? {
        state.withLock { state in
            guard case .resolved(let response) = state else { return nil }
            state = .delivered
            return response
        }
    }
}
