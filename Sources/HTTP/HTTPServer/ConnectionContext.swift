/// Per-request state kept in libmicrohttpd's `con_cls` slot between calls of the access handler.
///
/// Only ever touched on the thread libmicrohttpd calls us on for this connection.
final class ConnectionContext {
    enum Phase {
        /// Headers seen; body bytes may still arrive.
        case receiving
        /// A deferred response is pending; the connection is suspended until it is resolved.
        case waiting(Responder)
        /// A response has been queued.
        case answered
    }

    let method: HTTPMethod
    let path: String
    let started = ContinuousClock.now
    var phase = Phase.receiving
    var body: [UInt8] = []
    /// Bytes received beyond the cap are counted, not kept, and the request gets a 413.
    var bodyTooLarge = false

    init(method: HTTPMethod, path: String) {
        self.method = method
        self.path = path
    }
}
