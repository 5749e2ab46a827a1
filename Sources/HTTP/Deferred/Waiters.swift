import Synchronization

/// Parked requests that answer as soon as something they wait for is ready: long polls
/// (`GET /api/inbox/{id}?wait=30`) and "answer when the job is done" requests.
///
/// ```swift
/// let inboxWaiters = Waiters<String>()          // keyed by inbox id
/// router.get("/api/inbox/{id}") { request in
///     let inbox = try request.pathParameter("id")
///     let wait = try request.query.int("wait", in: 0...60) ?? 0
///     return inboxWaiters.wait(
///         for: inbox,
///         timeout: .seconds(wait),
///         onTimeout: { .json(["messages": []]) },
///         ready: { messages(inbox).isEmpty ? nil : .json(["messages": …]) }
///     )
/// }
/// // after a message arrives:
/// inboxWaiters.notify(inbox)
/// ```
/// `ready` is evaluated once when the request arrives and again on every `notify` of its key;
/// the first non-`nil` response (or a thrown error) answers the request. No wake-up is lost:
/// a waiter is registered before `ready` is first evaluated. `ready` runs on whichever thread
/// notifies, so it must be quick; when the answer is slow to make, it returns
/// `Response.offThread { … }`, which then answers the request from a worker thread.
public final class Waiters<Key: Hashable & Sendable>: Sendable {
    /// Produces the answer when it is ready, `nil` while it is not.
    public typealias Ready = @Sendable () throws -> Response?

    private final class Waiter: Sendable {
        let key: Key
        let responder: Responder
        let ready: Ready

        init(key: Key, responder: Responder, ready: @escaping Ready) {
            self.key = key
            self.responder = responder
            self.ready = ready
        }

        /// Answers if ready; `true` once the request has been answered (now or before).
        func check() -> Bool {
            guard !responder.isResolved else { return true }
            do {
                guard let response = try ready() else { return false }
                responder.respond(response)
            } catch {
                responder.fail(error)
            }
            return true
        }
    }

    private let waiters = Mutex<[ObjectIdentifier: Waiter]>([:])

    public init() {}

    /// Requests currently parked.
    public var count: Int { waiters.withLock { $0.count } }

    /// A deferred response answered by `ready` (now or on a later `notify`), or by `onTimeout`
    /// after `timeout`. A zero timeout answers at once with `ready` or `onTimeout`.
    public func wait(
        for key: Key,
        timeout: Duration,
        onTimeout: @escaping @Sendable () -> Response,
        ready: @escaping Ready
    ) -> Response {
        .deferred(timeout: nil) { [self] responder in
            let waiter = Waiter(key: key, responder: responder, ready: ready)
            let id = ObjectIdentifier(waiter)
            waiters.withLock { $0[id] = waiter }
            if waiter.check() {
                remove(id)
                return
            }
            guard timeout > .zero else {
                responder.respond(onTimeout())
                remove(id)
                return
            }
            Scheduler.shared.after(timeout) { [self] in
                responder.respond(onTimeout())
                remove(id)
            }
        }
    }

    /// Re-evaluates the waiters of `key`.
    public func notify(_ key: Key) {
        check { $0.key == key }
    }

    /// Re-evaluates every waiter.
    public func notifyAll() {
        check { _ in true }
    }

    /// Answers every parked request with `response()` (e.g. 503 when shutting down).
    public func resolveAll(with response: @escaping @Sendable () -> Response) {
        let all = waiters.withLock { waiters in
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in all { waiter.responder.respond(response()) }
    }

    private func check(_ matches: (Waiter) -> Bool) {
        let candidates = waiters.withLock { $0.values.filter(matches) }
        // `ready` runs outside the lock: it may take the caller's own locks.
        let answered = candidates.filter { $0.check() }.map(ObjectIdentifier.init)
        waiters.withLock { waiters in
            for id in answered { waiters.removeValue(forKey: id) }
        }
    }

    private func remove(_ id: ObjectIdentifier) {
        _ = waiters.withLock { $0.removeValue(forKey: id) }
    }
}
