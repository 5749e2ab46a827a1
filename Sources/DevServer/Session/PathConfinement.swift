import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The directories whose files a request may name — the project, its target dir and the cache
/// dir — and the one check a named path passes before anything reads it.
///
/// The check is on the real path (`realpath(3)`: every symlink followed, every `.` and `..`
/// applied the way the kernel will when the file is opened), and the real path is what the caller
/// goes on to read, so a symlink inside the project that points out of it, a `..` that climbs out,
/// or an absolute path elsewhere never gets a file read. Roots are compared by their real paths
/// too, so a project reached through a symlink (`/tmp` on macOS) still contains its own files.
struct PathConfinement: Sendable {
    /// The roots as their real paths (as given, standardised, when they do not exist yet).
    let roots: [String]
    /// The roots as given, standardised: what a path that does not exist is compared with.
    let givenRoots: [String]

    init(roots: [URL]) {
        givenRoots = roots.map(\.standardizedFileURL.path)
        self.roots = roots.map { Self.realPath($0.path) ?? $0.standardizedFileURL.path }
    }

    /// The real path of the regular file `reference` names — absolute, or relative to `base` —
    /// when it lies inside a root. Throws `invalid_path` (400) for a path no file can have,
    /// `path_outside_project` (403) outside the roots (whether or not something is there, so
    /// probing learns nothing), `file_not_found` (404), `not_a_file` (400) for a directory or
    /// device.
    func resolve(_ reference: String, relativeTo base: URL) throws(SessionError) -> String {
        guard !reference.isEmpty, !reference.utf8.contains(0) else {
            throw SessionError(.invalidInput, "invalid_path", "\(Self.quoted(reference)) is not a file path",
                               hint: "name a file by a path without NUL bytes, or pass a build id")
        }
        let joined = reference.hasPrefix("/") ? reference : base.path + "/" + reference
        // Lexically first, so a path that climbs out is refused even when nothing is there.
        let lexical = URL(fileURLWithPath: joined).standardizedFileURL.path
        let lexicalInside = Self.realPath(lexical).map(contains) ?? Self.contains(lexical, in: givenRoots + roots)
        guard lexicalInside else { throw outside(reference) }
        guard let real = Self.realPath(joined) else {
            // No such file — unless a symlink on the way leads out: then it is "outside" as well.
            if let parent = Self.realPath((joined as NSString).deletingLastPathComponent), !contains(parent) {
                throw outside(reference)
            }
            throw SessionError(.notFound, "file_not_found", "no file at \(reference)")
        }
        guard contains(real) else { throw outside(reference) }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SessionError(.invalidInput, "not_a_file", "\(reference) is not a regular file",
                               hint: "name a binary or an object file")
        }
        return real
    }

    /// Whether the real path `path` is one of the roots or inside one.
    func contains(_ path: String) -> Bool {
        Self.contains(path, in: roots)
    }

    private static func contains(_ path: String, in roots: [String]) -> Bool {
        roots.contains { root in path == root || path.hasPrefix(root == "/" ? "/" : root + "/") }
    }

    private func outside(_ reference: String) -> SessionError {
        SessionError(
            .forbidden, "path_outside_project", "\(reference) is outside the project, its target dir and the cache dir",
            hint: "pass a build id or a path inside \(roots.first ?? "the project")")
    }

    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\0", with: "\\0") + "'"
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
