/// A libmicrohttpd connection handle as the deferred-response types keep it while a request or a
/// stream waits, so their state can live in a `Mutex`.
///
/// `@unchecked Sendable` because `OpaquePointer` is not: the handle is only ever passed back to
/// libmicrohttpd, always under its owner's lock — `MHD_suspend_connection` on libmicrohttpd's own
/// thread, `MHD_resume_connection` from any thread (allowed with `MHD_ALLOW_SUSPEND_RESUME`) —
/// and never dereferenced by Swift.
struct MHDConnection: @unchecked Sendable {
    let handle: OpaquePointer
}
