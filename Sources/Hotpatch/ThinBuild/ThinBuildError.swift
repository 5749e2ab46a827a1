/// Why a thin rebuild could not be planned or failed.
public enum ThinBuildError: HotpatchError {
    case noBuild(project: String)
    case noTrackedSources(project: String)
    case noDepInfo(crate: String)
    case nothingChanged
    case rustcFailed(crate: String, exitStatus: Int32, diagnostics: String, command: String)
    case objectMissing(path: String)

    public var code: String {
        switch self {
        case .noBuild: "no_build"
        case .noTrackedSources: "no_tracked_sources"
        case .noDepInfo: "no_dep_info"
        case .nothingChanged: "nothing_changed"
        case .rustcFailed: "compile_failed"
        case .objectMissing: "object_missing"
        }
    }

    public var message: String {
        switch self {
        case let .noBuild(project): "no build of \(project) yet"
        case let .noTrackedSources(project): "the last build of \(project) recorded no source files"
        case let .noDepInfo(crate): "the captured rustc call of `\(crate)` writes no dep-info, so its sources can't be tracked"
        case .nothingChanged: "no source file changed since the last build or patch"
        case let .rustcFailed(crate, status, _, _):
            "rustc failed to compile `\(crate)` (exit status \(status))"
        case let .objectMissing(path): "rustc succeeded but wrote no object at \(path)"
        }
    }

    public var diagnostics: String? {
        guard case let .rustcFailed(_, _, diagnostics, _) = self, !diagnostics.isEmpty else { return nil }
        return diagnostics
    }

    public var hint: String? {
        switch self {
        case .noBuild, .noTrackedSources, .noDepInfo: "run `whisker-dev build` first"
        case .nothingChanged: "save an edit to a source file of the binary or a workspace crate it uses, then patch"
        case .rustcFailed: "fix the error above and save again; the running program keeps its current code"
        case .objectMissing: nil
        }
    }
}
