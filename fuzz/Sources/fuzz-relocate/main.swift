// libFuzzer target: the relocation rewriter (the relocate stage without its file writes): an
// arbitrary "patch object" is read as a RelocatableImage and made slide-independent against a
// real executable's symbol table, then the fixup object is written. A rewrite that succeeds must
// produce an object the ELF reader opens again.
//
// WHISKER_FUZZ_EXECUTABLE names the executable (scripts/fuzz.sh builds one with rustc).
import Foundation
import FuzzDriver
@testable import Hotpatch
import ObjectFile

guard let executablePath = ProcessInfo.processInfo.environment["WHISKER_FUZZ_EXECUTABLE"] else {
    fuzzLog("fuzz-relocate: set WHISKER_FUZZ_EXECUTABLE to a rustc-built executable")
    exit(2)
}
let executable: SymbolTable
do {
    executable = try SymbolTable.make(contentsOf: executablePath)
} catch {
    fuzzLog("fuzz-relocate: cannot read \(executablePath): \(error)")
    exit(2)
}
guard let anchor = executable.definitions(named: FixupObject.anchorSymbol).first(where: { $0.kind == .function }) else {
    fuzzLog("fuzz-relocate: \(executablePath) has no main function")
    exit(2)
}

runFuzzer { bytes in
    guard let image = try? RelocatableImage(path: "fuzz.o", bytes: Array(bytes)) else { return }
    // As RelocatedObjects.make: the patch's own global definitions stay its own.
    var definedInPatch = Set<String>()
    for case let symbol? in image.symbols where symbol.isDefined && symbol.binding != .local && !symbol.name.isEmpty {
        definedInPatch.insert(symbol.name)
    }
    var fixups = FixupTable()
    var summary = StaticsRelocationSummary()
    guard let (rewritten, _) = try? SlideIndependentObject.rewrite(
        image, executable: executable, anchorAddress: anchor.address, definedInPatch: definedInPatch,
        earlierStatics: .init(names: ["_ZN3app7EARLIER17h0123456789abcdefE"]), fixups: &fixups, summary: &summary)
    else { return }
    _ = summary.normalized()
    do {
        _ = try ELFFile(file: MappedFile(bytes: rewritten, name: "rewritten.o"))
    } catch {
        fuzzCheck(false, "the rewrite succeeded but its output does not open: \(error)")
    }
    _ = try? FixupObject(table: fixups, machine: image.machine).bytes()
}
