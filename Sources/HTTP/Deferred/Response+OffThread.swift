extension Response {
    /// Runs `work` on the server's worker threads (`WorkerThreads.shared`) instead of
    /// libmicrohttpd's one thread, and answers with what it returns or throws.
    ///
    /// For anything that may take more than a millisecond or two — a diff of two binaries, a
    /// symbol table read for the first time, a link, a large file — so one slow request never
    /// stalls every other request, long poll and event stream. The connection waits suspended
    /// meanwhile. `work` may itself return a deferred response (a long poll once the slow part is
    /// done); that one then takes over, with its own timeout. The work has none: it ends by
    /// itself, and at shutdown the client gets 503 while the work runs out unheard.
    public static func offThread(_ work: @escaping @Sendable () throws -> Response) -> Response {
        .deferred(timeout: nil) { responder in
            WorkerThreads.shared.run {
                do {
                    responder.respond(try work())
                } catch {
                    responder.fail(error)
                }
            }
        }
    }
}
