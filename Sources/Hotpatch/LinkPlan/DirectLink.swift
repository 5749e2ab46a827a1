import Crypto
import Foundation

/// The patch link without the C compiler driver: the linker the driver would run, with the
/// arguments it would pass (issue 10). `cc` and `collect2` cost ~8 ms of a ~35 ms link, every
/// patch; what they add (crt objects, search paths, libgcc) depends only on the flags, not on
/// the objects, so the driver is asked once per build and flag set (`-###`, which prints the
/// commands without running them) and the answer is kept as a template: the per-patch parts —
/// inputs, output, soname, version script — are placeholders in it.
///
/// Only ELF links (Linux, Android) whose driver answers in a known shape are emulated: GCC
/// (`collect2` running `ld.lld` through `-fuse-ld=lld`) and clang (running `ld.lld`). Anything
/// else, or a direct link that fails, links through the driver (``LinkPlan``), unchanged.
public struct DirectLinkTemplate: Sendable, Codable, Equatable {
    /// The linker the driver runs (`ld.lld`, or rustc's `rust-lld` behind its `gcc-ld` wrapper).
    public var linker: String
    /// Its arguments, with ``Placeholder``s for what differs between patches.
    public var arguments: [String]

    /// Stand-ins in the template for the per-patch parts. Paths no real link has.
    enum Placeholder {
        static let directory = "/@whisker-patch-directory@"
        static let fileName = "@whisker-library@.so"
        static let inputs = "/@whisker-inputs@.o"
    }

    /// The directory of templates kept for `build`, one file per flag set.
    static func directory(of build: FatBuild, layout: ProjectLayout) -> URL {
        layout.build(build.id).root.appendingPathComponent("direct-link")
    }

    /// Templates made or loaded by this process, by key (a server links many patches per build).
    private static let memo = Locked([String: DirectLinkTemplate?]())
}

extension LinkPlan {
    /// This link with the linker called directly (``DirectLinkTemplate``), or nil when the
    /// driver can't be emulated: the caller links through the driver then.
    ///
    /// - Parameters:
    ///   - inputs: the plan's input files (objects, stub, needed libraries), consecutive in
    ///     `arguments` in this order.
    ///   - templates: where this build's templates are kept (``DirectLinkTemplate/directory(of:layout:)``);
    ///     nil keeps them in this process only.
    public func direct(inputs: [String], templates: URL?) -> LinkPlan? {
        guard os != .macos, !inputs.isEmpty, let generic = templateArguments(inputs: inputs) else { return nil }
        let key = Self.templateKey(linker: linker, arguments: generic, environment: environment, workingDirectory: workingDirectory)
        let template = DirectLinkTemplate.template(key: key, directory: templates) {
            DirectLinkTemplate.make(driver: linker, arguments: generic, environment: environment, workingDirectory: workingDirectory)
        }
        guard let template else { return nil }
        let directory = (outputPath as NSString).deletingLastPathComponent
        let fileName = Self.fileName(of: outputPath)
        var arguments: [String] = []
        for argument in template.arguments {
            if argument == DirectLinkTemplate.Placeholder.inputs {
                arguments += inputs
            } else {
                arguments.append(argument
                    .replacingOccurrences(of: DirectLinkTemplate.Placeholder.directory, with: directory)
                    .replacingOccurrences(of: DirectLinkTemplate.Placeholder.fileName, with: fileName))
            }
        }
        var plan = self
        plan.linker = template.linker
        plan.arguments = arguments
        return plan
    }

    /// Forgets the template ``direct(inputs:templates:)`` used (its link failed): the next
    /// link asks the driver again.
    public func forgetDirect(inputs: [String], templates: URL?) {
        guard !inputs.isEmpty, let generic = templateArguments(inputs: inputs) else { return }
        let key = Self.templateKey(linker: linker, arguments: generic, environment: environment, workingDirectory: workingDirectory)
        DirectLinkTemplate.forget(key: key)
        if let templates { try? FileManager.default.removeItem(at: templates.appendingPathComponent("\(key).json")) }
    }

    /// `arguments` with the per-patch parts replaced by placeholders; nil when the inputs are
    /// not one run of arguments or a per-patch path is left in the rest (it would be baked
    /// into the template).
    func templateArguments(inputs: [String]) -> [String]? {
        guard let start = arguments.firstIndex(of: inputs[0]), arguments.count - start >= inputs.count,
              Array(arguments[start..<start + inputs.count]) == inputs else { return nil }
        let directory = (outputPath as NSString).deletingLastPathComponent
        let fileName = Self.fileName(of: outputPath)
        guard !directory.isEmpty, !fileName.isEmpty else { return nil }
        var generic = Array(arguments[..<start]) + [DirectLinkTemplate.Placeholder.inputs] + Array(arguments[(start + inputs.count)...])
        generic = generic.map {
            $0.replacingOccurrences(of: directory + "/", with: DirectLinkTemplate.Placeholder.directory + "/")
                .replacingOccurrences(of: fileName, with: DirectLinkTemplate.Placeholder.fileName)
        }
        // The patch id is in the library's name and directory: a template must not carry it.
        guard !generic.contains(where: { $0.contains(fileName) || $0.contains(directory + "/") }) else { return nil }
        return generic
    }

    static func templateKey(linker: String, arguments: [String], environment: [String: String], workingDirectory: String?) -> String {
        let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        let parts = [linker, workingDirectory ?? "", path] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + ["--"] + arguments
        return SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8)).lowercaseHex
    }
}

extension DirectLinkTemplate {
    /// The template for `key`: this process's, the build's file, or `make()`'s (then kept in
    /// both). A driver that can't be emulated is remembered as nil for this process only.
    static func template(key: String, directory: URL?, make: () -> DirectLinkTemplate?) -> DirectLinkTemplate? {
        if let known = memo.withLock({ $0[key] }) { return known }
        let file = directory?.appendingPathComponent("\(key).json")
        if let file, let stored = try? JSONFile.read(DirectLinkTemplate.self, from: file) {
            memo.withLock { $0[key] = .some(stored) }
            return stored
        }
        let made = make()
        memo.withLock { $0[key] = .some(made) }
        if let made, let file, let data = try? JSONEncoder().encode(made) {
            // A cache: without it the next process asks the driver again.
            try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? JSONFile.writeAtomically(data, to: file)
        }
        return made
    }

    /// Forgets `key` for this process (a direct link with it failed: link through the driver).
    static func forget(key: String) {
        memo.withLock { $0[key] = .some(nil) }
    }

    /// Asks `driver` what it would run for `arguments` (`-###`) and turns that into a template.
    static func make(driver: String, arguments: [String], environment: [String: String], workingDirectory: String?) -> DirectLinkTemplate? {
        let merged = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let directory = workingDirectory.map { URL(fileURLWithPath: $0) }
        guard let result = try? CommandRunner.run(Command(driver, arguments + ["-###"], environment: merged, workingDirectory: directory)),
              result.succeeded,
              let line = result.stderrText.split(separator: "\n").last(where: { $0.hasPrefix(" ") }),
              let words = splitCommandLine(String(line)), let program = words.first else { return nil }
        let name = LinkPlan.fileName(of: program)
        var linkerArguments = Array(words.dropFirst())
        var linker: String
        if name == "collect2" {
            // collect2 runs the `-fuse-ld=` linker with its own arguments, minus that flag and the
            // LTO plugin's (no LTO here: the inputs are objects).
            guard arguments.contains("-fuse-ld=lld"),
                  let found = try? CommandRunner.run(Command(
                      driver, arguments.filter { $0.hasPrefix("-B") || $0.hasPrefix("-fuse-ld=") || $0.hasPrefix("--sysroot") }
                          + ["-print-prog-name=ld.lld"], environment: merged, workingDirectory: directory)),
                  found.succeeded else { return nil }
            linker = found.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            var kept: [String] = []
            var index = 0
            while index < linkerArguments.count {
                let argument = linkerArguments[index]
                if argument == "-plugin" { index += 2; continue }
                if argument.hasPrefix("-plugin-opt=") || argument.hasPrefix("-fuse-ld=") { index += 1; continue }
                kept.append(argument)
                index += 1
            }
            linkerArguments = kept
        } else if name == "ld.lld" || name.hasSuffix("-ld.lld") {
            linker = program
        } else {
            return nil
        }
        guard linker.contains("/") || CommandRunner.which(linker, searchPath: merged?["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]) != nil
        else { return nil }
        // rustc's `gcc-ld/ld.lld` is a wrapper that runs `../rust-lld -flavor gnu`: one exec less.
        let resolved = URL(fileURLWithPath: linker).resolvingSymlinksInPath()
        let rustLLD = resolved.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rust-lld").path
        if resolved.deletingLastPathComponent().lastPathComponent == "gcc-ld", FileManager.default.isExecutableFile(atPath: rustLLD) {
            linker = rustLLD
            linkerArguments = ["-flavor", "gnu"] + linkerArguments
        }
        guard linkerArguments.contains(Placeholder.inputs) else { return nil }
        return DirectLinkTemplate(linker: linker, arguments: linkerArguments)
    }

    /// The words of a `-###` line: separated by spaces, `"…"` quoted with `\` escapes (GCC
    /// quotes only words that need it, clang every word). Nil for an unterminated quote.
    static func splitCommandLine(_ line: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false, quoted = false, escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character == " " && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        guard !quoted, !escaped else { return nil }
        if inWord { words.append(current) }
        return words
    }
}
