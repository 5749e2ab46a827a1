import Foundation
import Hotpatch

/// Looking into builds without changing anything: function diffs and symbol searches.
extension ProjectSession {
    /// Compares two binaries or objects, each a build id or a path (see ``binaryPath(forReference:)``).
    func diff(old: String, new: String) throws(SessionError) -> BinaryDiff {
        let oldPath = try binaryPath(forReference: old)
        let newPath = try binaryPath(forReference: new)
        let report = try SessionError.wrapping { try pipeline.diff(oldPath: oldPath, newPath: newPath) }
        return BinaryDiff(old: oldPath, new: newPath, report: report)
    }

    /// The defined symbols (files and sections left out) of a build's binary — the current build's
    /// when `build` is `nil` — whose name or demangled name contains `pattern` (any case).
    func symbols(build: String?, matching pattern: String?, limit: Int) throws(SessionError) -> SymbolListing {
        guard let buildID = build ?? currentBuild?.id.rawValue else { throw .conflict("no_build", "there is no build yet") }
        guard let record = buildRecord(buildID), let fat = record.build else {
            throw .notFound("build", id: buildID, hint: "only succeeded builds have symbols")
        }
        let pattern = pattern?.lowercased()
        let table = try SessionError.wrapping { try pipeline.symbols(of: fat) }
        var matches: [SymbolListing.Symbol] = []
        var total = 0
        for index in table.indices where table.isDefined(at: index) {
            let kind = table.kind(at: index)
            guard kind != .file, kind != .section else { continue }
            let name = table.name(at: index)
            let demangled = table.demangledName(at: index)
            if let pattern, !name.lowercased().contains(pattern), !demangled.lowercased().contains(pattern) { continue }
            total += 1
            guard matches.count < limit else { continue }
            matches.append(SymbolListing.Symbol(
                name: name, demangled: demangled, address: table.address(at: index), size: table.size(at: index),
                kind: kind, binding: table.binding(at: index), section: table.sectionName(at: index)))
        }
        return SymbolListing(build: buildID, symbols: matches, total: total)
    }

    /// A build id, or a path confined to the project, its target dir or the cache dir: a client
    /// never makes the server read elsewhere.
    func binaryPath(forReference reference: String) throws(SessionError) -> String {
        if let record = buildRecord(reference) {
            guard let build = record.build else {
                throw .conflict("build_not_ready", "build \(reference) is \(record.state.rawValue)")
            }
            return build.binary
        }
        guard reference.hasPrefix("/") || reference.hasPrefix(".") || reference.contains("/") else {
            throw .notFound("build", id: reference)
        }
        let confinement = PathConfinement(roots: [configuration.project, layout.targetDirectory, configuration.cacheDirectory])
        return try confinement.resolve(reference, relativeTo: configuration.project)
    }
}
