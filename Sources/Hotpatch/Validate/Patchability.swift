import Foundation

/// One reason an edit can't be patched into the running process (issue 13): the PatchPlan's and
/// the API's `reasons`. `code` is one of `manifest_changed`, `build_script_changed`,
/// `cargo_config_changed`, `lock_file_changed`, `static_type_changed`, `type_layout_changed`,
/// `new_thread_local`.
public struct UnpatchableReason: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
    /// The type (`counter::State`), or the static or thread-local (mangled), the reason is about.
    public var type: String?
    public var oldSize: Int?
    public var newSize: Int?
    /// The file whose change it is, when the reason is about one.
    public var file: String?

    public init(code: String, message: String, type: String? = nil, oldSize: Int? = nil, newSize: Int? = nil, file: String? = nil) {
        self.code = code
        self.message = message
        self.type = type
        self.oldSize = oldSize
        self.newSize = newSize
        self.file = file
    }
}

/// A patch refused before any device got it: what the running build is can't be changed by a
/// library loaded into it. Every reason found is listed; the fix is a new fat build and a restart.
public struct NotPatchableError: HotpatchError {
    public var reasons: [UnpatchableReason]

    public init(reasons: [UnpatchableReason]) { self.reasons = reasons }

    public var code: String { "not_patchable" }
    public var message: String { "not patchable: " + reasons.map(\.message).joined(separator: "; ") }
    public var hint: String? {
        "rebuild and restart the app (`whisker-dev build`, or restart `whisker-dev serve`, which fat-builds at start)"
    }
}

/// Fingerprints of the files that decide what the fat build is without being Rust sources the
/// thin rebuild replays: each package's `Cargo.toml` and `build.rs`, the lock file, cargo's
/// config. A change to any of them (a new dependency, a feature, a build script's output) needs a
/// new fat build; the watcher tracks them so saving one is noticed.
public struct BuildInputs: Codable, Sendable, Equatable {
    /// Path → sha256 of its contents, or `""` for a file that did not exist at build time (so
    /// one appearing, a new `build.rs` say, is a change too).
    public var files: [String: String]

    public init(files: [String: String]) { self.files = files }

    /// The inputs of a build of `project` whose path packages live in `packageDirectories`.
    public static func record(project: URL, packageDirectories: [String]) -> BuildInputs {
        var paths = Set<String>()
        for directory in Set(packageDirectories + [project.path]) {
            let url = URL(fileURLWithPath: directory)
            paths.insert(url.appendingPathComponent("Cargo.toml").path)
            paths.insert(url.appendingPathComponent("build.rs").path)
        }
        // The lock file and cargo's config live at the workspace root: the project or above it.
        var directory = project.standardizedFileURL
        for _ in 0..<4 {
            for name in ["Cargo.lock", ".cargo/config.toml", ".cargo/config"] {
                let path = directory.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: path) { paths.insert(path) }
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        var files: [String: String] = [:]
        for path in paths { files[path] = SourceFingerprint.sha256(ofFile: path) ?? "" }
        return BuildInputs(files: files)
    }

    /// Files that exist now (the ones the watcher can see change).
    public var existingFiles: [String] { files.filter { !$0.value.isEmpty }.keys.sorted() }

    /// One reason per input whose contents differ from the build's.
    public func changes() -> [UnpatchableReason] {
        files.keys.sorted().compactMap { path in
            let now = SourceFingerprint.sha256(ofFile: path) ?? ""
            guard now != files[path] else { return nil }
            let name = URL(fileURLWithPath: path).lastPathComponent
            let what = files[path]?.isEmpty == true ? "was added" : now.isEmpty ? "was removed" : "changed"
            let (code, needs): (String, String) = switch name {
            case "Cargo.toml": ("manifest_changed", "dependencies, features and build settings are the fat build's")
            case "build.rs": ("build_script_changed", "a build script runs only in a fat build")
            case "Cargo.lock": ("lock_file_changed", "the dependency versions are the fat build's")
            default: ("cargo_config_changed", "cargo's configuration is the fat build's")
            }
            return UnpatchableReason(code: code, message: "\(path) \(what) since the build: \(needs)", file: path)
        }
    }
}

extension Patcher {
    /// Throws `reasons` as a ``NotPatchableError`` — unless this patcher allows unpatchable edits
    /// (`--allow-unpatchable`), which only logs them: the edit is applied and may misbehave.
    func refuse(_ reasons: [UnpatchableReason], patch: PatchDirectory) throws {
        guard !reasons.isEmpty else { return }
        guard allowUnpatchable else { throw NotPatchableError(reasons: reasons) }
        for reason in reasons {
            logger.warning("patch \(patch.id): applied although not patchable (--allow-unpatchable): \(reason.message)")
        }
    }

    /// Types of the rebuilt crates whose layout the patch objects change (``TypeLayoutCheck``),
    /// timed as the `layoutCheck` phase. Unreadable debug info skips the check with a warning:
    /// it guards against a misbehaving patch, it must not stop every patch of a build.
    func unpatchableLayouts(_ compilation: inout PatchCompilation) -> [UnpatchableReason] {
        let clock = ContinuousClock()
        let start = clock.now
        defer { compilation.phases.append(PhaseTiming(name: "layoutCheck", duration: clock.now - start)) }
        do {
            let objects = TypeLayoutCheck.objectsToCheck(compilation)
            guard !objects.isEmpty else { return [] }
            let running = try TypeLayoutCheck.running(compilation.build, layout: layout)
            guard !running.isEmpty else {
                logger.notice("patch \(compilation.patch.id): no type layouts in the build's debug info (profile debug < 2): layout check skipped")
                return []
            }
            return try TypeLayoutCheck.reasons(running: running, objects: objects, crates: Set(compilation.rebuiltCrates))
        } catch {
            logger.warning("patch \(compilation.patch.id): layout check skipped: \(error)")
            return []
        }
    }

    /// Reasons the relocated objects can't run in the build's process: a static whose type changed,
    /// so old and new code would disagree on the memory both use. Its size differs under the same
    /// name, or — legacy mangling hashes a static's type into its name — the "new" static has the
    /// path of one the executable has, under another hash.
    func unpatchableStatics(_ compilation: PatchCompilation) throws -> [UnpatchableReason] {
        guard let summary = compilation.relocation?.summary, !summary.changed.isEmpty || !summary.newStatics.isEmpty else { return [] }
        let executable = try fatSymbols(compilation.build)
        var renamed: [String: String] = [:]  // the edit's name → the executable's
        if !summary.newStatics.isEmpty {
            let wanted = Dictionary(summary.newStatics.compactMap { name in Self.unhashedPath(name).map { ($0, name) } }, uniquingKeysWith: { a, _ in a })
            for index in executable.indices where executable.isDefined(at: index) && executable.kind(at: index) == .data {
                let name = executable.name(at: index)
                if let path = Self.unhashedPath(name), let edited = wanted[path], edited != name { renamed[edited] = name }
            }
        }
        return (summary.changed + renamed.keys.sorted()).map { name in
            let old = renamed[name] ?? name
            let oldSize = executable.index(named: old).map { Int(executable.size(at: $0)) }
            let newSize = compilation.objectSymbols.index(named: name).map { Int(compilation.objectSymbols.size(at: $0)) }
            let readable = RustDemangler.demangle(name) ?? name
            let sizes = oldSize.map { old in " (\(old) → \(newSize.map(String.init) ?? "?") bytes)" } ?? ""
            return UnpatchableReason(
                code: "static_type_changed",
                message: "the type of static `\(readable)` changed\(sizes): the running code keeps using the old layout",
                type: name, oldSize: oldSize, newSize: newSize)
        }
    }

    /// A legacy-mangled name without its trailing hash (`_ZN7counter10TICKS_SEEN17h…E` →
    /// `_ZN7counter10TICKS_SEEN`), nil for other names.
    static func unhashedPath(_ name: String) -> Substring? {
        let bytes = name.utf8
        guard name.hasPrefix("_ZN"), bytes.count > 23, name.hasSuffix("E") else { return nil }
        let tail = name.utf8.suffix(20)
        guard tail.starts(with: "17h".utf8),
              tail.dropFirst(3).dropLast().allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return name.dropLast(20)
    }
}
