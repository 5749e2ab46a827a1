import Foundation

/// Why a patch library could not be planned or linked.
public struct LinkPlanError: HotpatchError, Equatable {
    /// Stable snake_case code: `no_objects`, `stub_not_supported`, `unsupported_linker`,
    /// `linker_not_found`, `link_failed`.
    public var code: String
    /// What failed, one line; for `link_failed`, the command line.
    public var message: String
    /// How to fix it, when there's something to do.
    public var hint: String?
    /// The linker's own output, for `link_failed`.
    public var diagnostics: String? = nil

    static let noObjects = LinkPlanError(
        code: "no_objects", message: "link plan: no patch objects to link",
        hint: "the thin rebuild should have produced at least one object; check its output directory")

    static func stubNotSupported(_ os: LinkerOS) -> LinkPlanError {
        LinkPlanError(
            code: "stub_not_supported",
            message: "link plan: the stub object is ELF and can't be linked into a \(os.rawValue) library",
            hint: "on macOS the patch binds to the executable's exported symbols through -undefined dynamic_lookup; pass no stub")
    }

    static func unsupportedLinker(_ linker: String) -> LinkPlanError {
        LinkPlanError(
            code: "unsupported_linker",
            message: "link plan: the captured linker \(linker) is a bare linker, not a C compiler driver",
            hint: "build with a cc-style linker (the default, or -Clinker=cc / the NDK's clang)")
    }

    static func linkerNotFound(_ linker: String) -> LinkPlanError {
        LinkPlanError(
            code: "linker_not_found", message: "linker \(linker) was not found or is not executable",
            hint: "install a C toolchain (e.g. `apt-get install clang lld`) or check the captured linker path")
    }

    static func linkFailed(commandLine: String, status: Int32, output: String) -> LinkPlanError {
        let diagnostics = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return LinkPlanError(
            code: "link_failed",
            message: "linking the patch library failed (exit status \(status)): \(commandLine)",
            hint: diagnostics.contains("undefined symbol") || diagnostics.contains("undefined reference")
                ? "a symbol the patch uses is defined neither in the fat binary nor in the linked libraries"
                : "run the command above by hand to reproduce",
            diagnostics: diagnostics.isEmpty ? nil : diagnostics)
    }
}
