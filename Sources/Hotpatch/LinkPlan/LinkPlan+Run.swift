import Foundation

/// What a successful link did.
public struct LinkOutcome: Sendable, Hashable {
    /// The library written (the plan's `outputPath`).
    public var libraryPath: String
    /// Wall time of the linker process.
    public var duration: Duration
    /// The linker's stdout and stderr, interleaved (warnings, usually empty).
    public var output: String
}

extension LinkOutcome {
    /// The link stage: runs `plan`'s link and waits for it. Throws ``LinkPlanError`` with the
    /// command line and the linker's diagnostics when it fails or doesn't produce the library.
    @discardableResult
    public static func run(_ plan: LinkPlan) throws(LinkPlanError) -> LinkOutcome {
        let linker = plan.linker
        guard let executable = LinkPlan.resolveExecutable(linker, environment: plan.environment) else {
            throw .linkerNotFound(linker)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = plan.arguments
        if !plan.environment.isEmpty {
            process.environment = ChildProcessOwner.marking(ProcessInfo.processInfo.environment.merging(plan.environment) { _, new in new })
        }
        if let workingDirectory = plan.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        // One pipe for both streams, read to EOF before waiting: the linker can't block on a
        // full pipe, and its diagnostics keep their order.
        let pipe = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = pipe
        process.standardError = pipe

        let clock = ContinuousClock()
        let start = clock.now
        do {
            try process.runUnblockingSignals()
        } catch {
            throw .linkerNotFound("\(linker) (\(error.localizedDescription))")
        }
        TestHooks.pause(at: .link, child: process.processIdentifier)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let duration = clock.now - start

        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        guard status == 0 else { throw .linkFailed(commandLine: plan.commandLine, status: status, output: output) }
        guard FileManager.default.fileExists(atPath: plan.absoluteOutputPath) else {
            throw .linkFailed(commandLine: plan.commandLine, status: status, output: output + "\n(no library at \(plan.outputPath))")
        }
        return LinkOutcome(libraryPath: plan.outputPath, duration: duration, output: output)
    }
}

extension LinkPlan {
    /// `outputPath` resolved against the working directory the link runs in.
    fileprivate var absoluteOutputPath: String {
        guard !outputPath.hasPrefix("/"), let workingDirectory else { return outputPath }
        return workingDirectory + "/" + outputPath
    }

    /// `name` itself when it's a path, else the first executable `name` on the PATH the link
    /// will see.
    static func resolveExecutable(_ name: String, environment: [String: String]) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
