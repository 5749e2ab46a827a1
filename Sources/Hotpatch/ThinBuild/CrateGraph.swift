import Foundation

/// The tracked crates of a fat build and which of them each one depends on, read from the
/// `--extern` arguments of their captured rustc calls: an `--extern` whose file is another tracked
/// library's output (`lib<crate><extra filename>.rlib` or `.rmeta`, whatever the alias) is an edge.
/// Registry crates are never tracked, so they are never nodes.
struct CrateGraph {
    /// Capture file → its capture.
    let captures: [String: CapturedRustcInvocation]
    /// Capture file → the capture files of the tracked crates it names in `--extern`.
    let dependencies: [String: Set<String>]

    init(_ captures: [CapturedRustcInvocation]) {
        var byFile: [String: CapturedRustcInvocation] = [:]
        var byLibraryStem: [String: String] = [:]
        for capture in captures {
            byFile[capture.captureFilename] = capture
            if !capture.isBinary { byLibraryStem[Self.libraryStem(of: capture)] = capture.captureFilename }
        }
        var dependencies: [String: Set<String>] = [:]
        for capture in captures {
            var edges: Set<String> = []
            for value in RustcCommandLine(capture.arguments).values(of: "--extern") {
                guard let path = ExternArgument(value)?.path, let stem = Self.stem(ofFile: path),
                      let dependency = byLibraryStem[stem], dependency != capture.captureFilename else { continue }
                edges.insert(dependency)
            }
            dependencies[capture.captureFilename] = edges
        }
        self.captures = byFile
        self.dependencies = dependencies
    }

    /// `lib<crate name><extra filename>`: the name of every file rustc writes for a library crate,
    /// without the extension.
    static func libraryStem(of capture: CapturedRustcInvocation) -> String {
        "lib\(capture.crateName)\(capture.extraFilename ?? "")"
    }

    /// `libfoo-1a2b` for `/…/deps/libfoo-1a2b.rlib`.
    static func stem(ofFile path: String) -> String? {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return name.isEmpty ? nil : name
    }

    /// `root` and every tracked crate it depends on, directly or not.
    func reachable(from root: String) -> Set<String> {
        var seen: Set<String> = [root]
        var queue = [root]
        while let next = queue.popLast() {
            for dependency in dependencies[next] ?? [] where seen.insert(dependency).inserted { queue.append(dependency) }
        }
        return seen
    }

    /// The crates among `within` that are in `changed` or depend on one of them (directly or
    /// not), dependencies before dependents; ties in name order so the plan is stable.
    func rebuildOrder(changed: Set<String>, within: Set<String>) -> [String] {
        var affected = changed.intersection(within)
        var grew = true
        while grew {
            grew = false
            for crate in within where !affected.contains(crate) {
                if !(dependencies[crate] ?? []).isDisjoint(with: affected) {
                    affected.insert(crate)
                    grew = true
                }
            }
        }
        // Kahn's algorithm over the affected crates only: an unaffected dependency is not rebuilt.
        var remaining = affected
        var order: [String] = []
        while !remaining.isEmpty {
            let ready = remaining.filter { (dependencies[$0] ?? []).isDisjoint(with: remaining) }.sorted()
            // A cycle cannot come from cargo; should one appear, finish in name order rather than loop.
            let next = ready.isEmpty ? remaining.sorted() : ready
            order += next
            remaining.subtract(next)
        }
        return order
    }
}
