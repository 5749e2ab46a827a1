import ArgumentParser
import Hotpatch

/// `whisker-dev diff OLD NEW [--json]`: which functions two binaries or objects add, remove and keep.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the functions of two binaries or objects: added, removed and kept.")

    @Argument(help: "The old binary or object file.")
    var old: String

    @Argument(help: "The new binary or object file.")
    var new: String

    @Flag(help: "Print the DiffReport as JSON instead of text.")
    var json = false

    @Flag(help: "In text output, also list the functions both files define.")
    var listKept = false

    func run() async throws {
        let report = try DiffReport.between(oldPath: old, newPath: new)
        print(json ? report.json() : report.text(listKept: listKept), terminator: json ? "\n" : "")
    }
}
