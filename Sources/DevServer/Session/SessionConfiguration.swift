import Foundation

/// How `whisker-dev serve` builds the project it serves.
public struct SessionConfiguration: Sendable {
    public var project: URL
    public var cacheDirectory: URL
    public var bin: String?
    public var package: String?
    public var release: Bool
    public var target: String?
    /// Jump tables carry `entryPatches` (`whisker-dev serve --entry-patching`).
    public var entryPatching: Bool
    /// Edits the patchability checks refuse are patched anyway (`--allow-unpatchable`).
    public var allowUnpatchable: Bool
    public var environment: [String: String]

    public init(
        project: URL, cacheDirectory: URL, bin: String? = nil, package: String? = nil, release: Bool = false,
        target: String? = nil, entryPatching: Bool = false, allowUnpatchable: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.project = project.standardizedFileURL
        self.cacheDirectory = cacheDirectory
        self.bin = bin
        self.package = package
        self.release = release
        self.target = target
        self.entryPatching = entryPatching
        self.allowUnpatchable = allowUnpatchable
        self.environment = environment
    }

    /// The cargo profile builds use, as the API names it.
    public var profile: String { release ? "release" : "dev" }
}
