/// The toolchain or target can't do what a stage needs.
public enum EnvironmentError: HotpatchError {
    case toolFailed(tool: String, status: Int32, output: String)
    case unsupportedTarget(triple: String, reason: String)
    case targetNotInstalled(triple: String, looked: String)

    public var code: String {
        switch self {
        case .toolFailed: "tool_failed"
        case .unsupportedTarget: "target_unsupported"
        case .targetNotInstalled: "target_not_installed"
        }
    }

    public var message: String {
        switch self {
        case let .toolFailed(tool, status, output):
            "`\(tool)` failed with exit status \(status)" + (output.isEmpty ? "" : ": \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        case let .unsupportedTarget(triple, reason): "target \(triple) is not supported for hot-patching: \(reason)"
        case let .targetNotInstalled(triple, looked): "the Rust standard library for \(triple) is not installed (no \(looked))"
        }
    }

    public var hint: String? {
        switch self {
        case .toolFailed: "run `whisker-dev doctor` to check the toolchain"
        case .unsupportedTarget: "build for x86_64 or aarch64 Linux, Android or macOS"
        case let .targetNotInstalled(triple, _): "rustup target add \(triple)"
        }
    }
}
