import Foundation

/// One link rustc performed through `whisker-linker-shim` (`captures/linker/<n>.json`). The link
/// plan forwards parts of it (`-B…`, `-fuse-ld=…`, `-m…`, `-target`, `-L…`) to the patch link.
public struct CapturedLinkerInvocation: Codable, Sendable, Equatable {
    /// The real linker that ran (e.g. `cc`, an NDK clang).
    public var linker: String
    /// The arguments the linker ran with, `@response` files expanded, including any link arguments
    /// the shim appended (`extraArguments`).
    public var arguments: [String]
    /// The arguments the shim appended to rustc's (e.g. `-Wl,--export-dynamic`).
    public var extraArguments: [String]
    public var workingDirectory: String
    /// The `-o` output, absolute; nil if the command had none.
    public var outputPath: String?
    public var capturedAt: Double

    public init(linker: String, arguments: [String], extraArguments: [String], workingDirectory: String, capturedAt: Date = Date()) {
        self.linker = linker
        self.arguments = arguments
        self.extraArguments = extraArguments
        self.workingDirectory = workingDirectory
        self.outputPath = Self.outputPath(in: arguments).map { CapturedRustcInvocation.absolute($0, in: workingDirectory) }
        self.capturedAt = capturedAt.timeIntervalSince1970
    }

    /// The last `-o PATH` / `-oPATH` (later ones win for cc and ld).
    static func outputPath(in arguments: [String]) -> String? {
        var result: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-o", index + 1 < arguments.count {
                result = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("-o"), argument.count > 2 { result = String(argument.dropFirst(2)) }
            index += 1
        }
        return result
    }
}

extension CapturedLinkerInvocation {
    /// The capture stage for links (run by `whisker-linker-shim`): writes `linker/<n>.json` under
    /// `captureDirectory`, n being the first free number (links can run in parallel), and returns it.
    @discardableResult
    public static func make(
        linker: String, arguments: [String], extraArguments: [String], captureDirectory: URL,
        workingDirectory cwd: String = FileManager.default.currentDirectoryPath
    ) throws -> CapturedLinkerInvocation {
        let expanded = try ResponseFile.expandLinkerArguments(arguments, workingDirectory: URL(fileURLWithPath: cwd))
        let capture = CapturedLinkerInvocation(linker: linker, arguments: expanded + extraArguments, extraArguments: extraArguments, workingDirectory: cwd)
        let data = try JSONFile.encode(capture)
        let directory = captureDirectory.appendingPathComponent("linker")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for n in 1...10_000 {
            let path = directory.appendingPathComponent("\(n).json").path
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }
                throw FileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            defer { close(fd) }
            try writeAll(fd, data, path: path)
            return capture
        }
        throw FileError.cannotWrite(path: directory.path, reason: "10000 linker captures already")
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        if let failure = data.withUnsafeBytes({ Hotpatch.writeAll(fd, $0) }) {
            throw FileError.cannotWrite(path: path, reason: String(cString: strerror(failure)))
        }
    }
}
