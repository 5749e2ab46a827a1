import ArgumentParser
import Foundation
import Hotpatch

/// `whisker-dev patch`: thin-rebuilds what changed since the last build or patch, links a patch
/// library for the process whose `aslr_reference` is given, and writes its JumpTable.
struct PatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Patch a running process: rebuild what changed, link, write the jump table it applies."
    )

    /// The JumpTable shapes `--format` can write.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case whisker, subsecond
    }

    @Option(help: "Directory of the cargo project (holds Cargo.toml).")
    var project: String

    @Option(
        name: .customLong("aslr-reference"),
        help: "Runtime address of `main` in the running process (what whisker_hot::aslr_reference() prints), e.g. 0x55d0c0a01234.")
    var aslrReference: String

    @Option(name: .customLong("jump-table-out"), help: "Where to write the JumpTable JSON.")
    var jumpTableOut: String

    @Option(help: "JumpTable shape: whisker (what whisker_hot::apply_json reads) or subsecond.")
    var format: Format = .whisker

    @Flag(help: "Rebuild the binary crate even if no source changed.")
    var force = false

    @Flag(help: "Print the PatchPlan as JSON on stdout.")
    var json = false

    @Flag(
        name: .customLong("entry-patching"),
        help: "Also overwrite the start of every changed old function with a jump to its new code, so direct callers run it too (Linux/Android; the process must be allowed to write its code pages).")
    var entryPatching = false

    @Flag(
        name: .customLong("allow-unpatchable"),
        help: "Apply an edit the patchability checks refuse (a changed type layout, static type or manifest) instead of failing: the running code may misbehave. For experiments; restart the app instead.")
    var allowUnpatchable = false

    @OptionGroup var toolchain: ToolchainOptions

    @OptionGroup var cache: CacheOptions

    func run() async throws {
        toolchain.apply()
        // Bad input gets one line on stderr, not a usage dump: scripts read the first line.
        guard let reference = HexAddress.parse(aslrReference) else {
            FileHandle.standardError.write(Data("error: --aslr-reference '\(aslrReference)' is not a hex address (hint: pass what whisker_hot::aslr_reference() printed, e.g. 0x55d0c0a01234)\n".utf8))
            throw ExitCode.failure
        }
        let projectURL = URL(fileURLWithPath: project).standardizedFileURL
        guard FileManager.default.fileExists(atPath: projectURL.appendingPathComponent("Cargo.toml").path) else {
            FileHandle.standardError.write(Data("error: \(projectURL.path) has no Cargo.toml (hint: pass the directory of a cargo project)\n".utf8))
            throw ExitCode.failure
        }
        let layout = ProjectLayout(project: projectURL, cacheDirectory: URL(fileURLWithPath: cache.resolvedDirectory))
        // A patch is for the build's target: `--target` only guards against patching a build
        // made for another one (say, the host build while the phone runs the aarch64 one).
        if let target = toolchain.target, let build = try? FatBuild.latest(layout), build.target != target {
            FileHandle.standardError.write(Data("error: the last build of \(projectURL.path) is for \(build.target), not \(target) (hint: run `whisker-dev build --project \(project) --target \(target)` first)\n".utf8))
            throw ExitCode.failure
        }
        var patcher = Patcher(layout: layout, cache: cache.makeModuleCache())
        patcher.entryPatching = entryPatching
        patcher.allowUnpatchable = allowUnpatchable
        let linked: LinkedPatch
        do {
            linked = try patcher.createPatch(aslrReference: reference, force: force)
            let text = format == .whisker ? linked.jumpTable.json() : linked.jumpTable.subsecondJSON()
            try JSONFile.writeAtomically(Data((text + "\n").utf8), to: URL(fileURLWithPath: jumpTableOut))
        } catch {
            printError(error)
            throw ExitCode.failure
        }
        let plan = linked.plan
        if json {
            print(try plan.jsonString())
            return
        }
        print("Patch \(plan.patchId) of build \(plan.buildId): \(plan.cratesRebuilt.joined(separator: ", ")) rebuilt")
        for phase in plan.phases {
            print("  " + phase.name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%8.1f ms", phase.durationMs))
        }
        print("  " + "total".padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%8.1f ms", plan.durationMs))
        print("  \(plan.diff.summary); \(plan.library.routedFunctions) routed")
        if entryPatching {
            print("  entry patches \(linked.jumpTable.entryPatches.count) (functions whose code changed)")
        }
        print("  library     \(plan.library.path) (\(plan.library.size) bytes)")
        switch plan.library.linkMode {
        case .shared:
            print("  link        shared: one library for every process of this build")
        case .perDevice:
            print("  link        per device: for this process's slide only" + (plan.library.sharedLinkFallback.map { " (\($0))" } ?? ""))
        }
        if let statics = plan.statics { print("  statics     \(statics.description)") }
        for crate in plan.codegenUnits ?? [] {
            print("  units       \(crate.captureFile): \(crate.linked) of \(crate.units) codegen units linked (\(crate.changed) changed)")
        }
        print("  jump table  \(URL(fileURLWithPath: jumpTableOut).standardizedFileURL.path)")
    }
}
