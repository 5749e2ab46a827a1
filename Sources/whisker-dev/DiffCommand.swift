import ArgumentParser
import Hotpatch

/// `whisker-dev diff OLD NEW [--json]`: which functions two objects change, add, remove and keep
/// unchanged (two linked binaries: added, removed and kept by name).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the functions of two objects (machine code per function) or binaries (by name).",
        discussion: """
            Two relocatable ELF objects (.o) are compared function by function: bytes with relocation \
            sites masked, relocation targets by symbol name or content. Anything else (executables, \
            libraries, Mach-O) is compared by function name only.
            """)

    @Argument(help: "The old object, binary or library.")
    var old: String

    @Argument(help: "The new object, binary or library.")
    var new: String

    @Flag(help: "Print the DiffReport as JSON instead of text.")
    var json = false

    @Flag(help: "In text output, also list the unchanged functions (kept ones when compared by name).")
    var listKept = false

    @Flag(help: "Compare by name only, even two objects.")
    var namesOnly = false

    func run() async throws {
        let report: DiffReport =
            if !namesOnly, FunctionDiff.isRelocatableELF(old), FunctionDiff.isRelocatableELF(new) {
                try DiffReport.make(oldObjects: [old], newObjects: [new])
            } else {
                try DiffReport.make(oldBinary: old, newBinary: new)
            }
        print(json ? report.json() : report.text(listKept: listKept), terminator: json ? "\n" : "")
    }
}
