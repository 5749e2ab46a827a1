import CMicroHTTPD
import Synchronization

/// A response body written piece by piece from any thread, through a bounded queue.
///
/// The server pulls from the queue when the client's socket can take more; when the queue is
/// empty the connection is suspended and the next `write` resumes it. A client that stops reading
/// cannot hold up writers: once more than `capacity` bytes wait, the stream is aborted (the
/// connection is closed) and `write` returns `false`.
public final class ResponseStream: Sendable {
    /// Bytes the queue may hold before the stream is aborted.
    public let capacity: Int

    private enum Ending { case finish, abort }

    private struct State {
        var chunks: [[UInt8]] = []
        var head = 0
        var offset = 0
        var queuedBytes = 0
        var ending: Ending?
        var connection: MHDConnection?
        var attached = false
        var suspended = false
        var released = false
        var closeHandlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    public init(capacity: Int = 1 << 20) {
        self.capacity = capacity
    }

    /// Queues `bytes`; `false` when the stream has ended or would exceed `capacity` (it is then
    /// aborted and the client disconnected).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        state.withLock { state in
            guard state.ending == nil, !state.released else { return false }
            guard state.queuedBytes + bytes.count <= capacity else {
                Self.abort(&state)
                return false
            }
            guard !bytes.isEmpty else { return true }
            state.chunks.append(bytes)
            state.queuedBytes += bytes.count
            Self.wake(&state)
            return true
        }
    }

    /// Ends the stream once the queued bytes are sent.
    public func finish() {
        state.withLock { state in
            if state.ending == nil { state.ending = .finish }
            Self.wake(&state)
        }
    }

    /// Drops queued bytes and closes the connection.
    public func abort() {
        state.withLock { Self.abort(&$0) }
    }

    /// `false` after `finish`, `abort`, an overflow, or when the connection went away.
    public var isOpen: Bool {
        state.withLock { $0.ending == nil && !$0.released }
    }

    /// Runs `handler` once the server is done with the stream (sent, failed or disconnected);
    /// at once if that has already happened.
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state in
            if state.released { return true }
            state.closeHandlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    private static func abort(_ state: inout State) {
        state.ending = .abort
        state.chunks = []
        state.head = 0
        state.offset = 0
        state.queuedBytes = 0
        wake(&state)
    }

    private static func wake(_ state: inout State) {
        guard state.suspended, let connection = state.connection else { return }
        state.suspended = false
        MHD_resume_connection(connection.handle)
    }

    // MARK: used by the server on libmicrohttpd's thread

    /// Binds the stream to its connection; `false` if it already serves another one.
    func attach(_ pointer: OpaquePointer) -> Bool {
        let connection = MHDConnection(handle: pointer)
        return state.withLock { state in
            guard !state.attached else { return false }
            state.attached = true
            state.connection = connection
            return true
        }
    }

    /// libmicrohttpd's content-reader protocol: bytes copied, 0 after suspending,
    /// -1 for the end of the stream, -2 to close the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        state.withLock { state in
            if state.ending == .abort { return -2 }
            if state.queuedBytes > 0 {
                var copied = 0
                while copied < buffer.count, state.head < state.chunks.count {
                    let chunk = state.chunks[state.head]
                    let count = min(chunk.count - state.offset, buffer.count - copied)
                    chunk.withUnsafeBytes { source in
                        let slice = UnsafeRawBufferPointer(rebasing: source[state.offset..<(state.offset + count)])
                        UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<(copied + count)]).copyMemory(from: slice)
                    }
                    copied += count
                    state.offset += count
                    if state.offset == chunk.count {
                        state.head += 1
                        state.offset = 0
                    }
                }
                state.queuedBytes -= copied
                if state.head > 64, state.head * 2 > state.chunks.count {
                    state.chunks.removeFirst(state.head)
                    state.head = 0
                }
                return copied
            }
            if state.ending == .finish { return -1 }
            guard let connection = state.connection else { return -2 }
            // Nothing to send: park the connection until `write`/`finish`/`abort` wakes it.
            // Returning 0 without suspending would make libmicrohttpd spin.
            MHD_suspend_connection(connection.handle)
            state.suspended = true
            return 0
        }
    }

    /// The server is done with the stream (its libmicrohttpd response was freed).
    func released() {
        let handlers = state.withLock { state in
            state.released = true
            state.connection = nil
            state.suspended = false
            state.chunks = []
            state.queuedBytes = 0
            defer { state.closeHandlers = [] }
            return state.closeHandlers
        }
        for handler in handlers { handler() }
    }
}
