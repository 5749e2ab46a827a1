/// What kind of failure an error is, across modules; a transport turns it into a status (the
/// server's table is `SessionError.httpStatuses`). A struct around a private enum, as
/// swift-subprocess's error codes are, so a kind can be added without breaking any `switch`.
public struct ErrorKind: Hashable, Sendable, CustomStringConvertible {
    enum Storage: String, Hashable, Sendable {
        case notFound, conflict, jobFinished, invalidInput, forbidden, gone, unreadableInput, toolFailed, environment,
             unsupported, shuttingDown, internalError
    }

    let storage: Storage

    init(_ storage: Storage) {
        self.storage = storage
    }

    public var description: String { storage.rawValue }

    /// No file, build, patch or device has that name or id.
    public static var notFound: Self { .init(.notFound) }
    /// The state does not allow it now (no build yet, nothing changed).
    public static var conflict: Self { .init(.conflict) }
    /// The job asked about has already ended.
    public static var jobFinished: Self { .init(.jobFinished) }
    /// A value the caller gave is malformed or out of range.
    public static var invalidInput: Self { .init(.invalidInput) }
    /// The request names something outside what the caller may touch.
    public static var forbidden: Self { .init(.forbidden) }
    /// The resource existed and has since been removed.
    public static var gone: Self { .init(.gone) }
    /// A file's bytes are not what they must be: a truncated or corrupt binary, a damaged record.
    public static var unreadableInput: Self { .init(.unreadableInput) }
    /// A tool the pipeline runs failed: rustc, cargo, the linker; or a stage could not do its work.
    public static var toolFailed: Self { .init(.toolFailed) }
    /// The pipeline could not do it (the session's name for ``toolFailed``).
    public static var pipelineFailed: Self { toolFailed }
    /// The machine lacks something: a tool, a toolchain, a writable directory.
    public static var environment: Self { .init(.environment) }
    /// A well-formed input of a kind this build does not handle (another architecture, a target).
    public static var unsupported: Self { .init(.unsupported) }
    /// The server is shutting down and takes no more work.
    public static var shuttingDown: Self { .init(.shuttingDown) }
    /// Something that should not happen did: a bug.
    public static var internalError: Self { .init(.internalError) }
}
