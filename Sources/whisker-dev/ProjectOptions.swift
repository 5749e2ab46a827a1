import ArgumentParser

/// Which cargo project and binary to build: shared by `build` and `serve`.
struct ProjectOptions: ParsableArguments {
    @Option(help: "Directory of the cargo project (holds Cargo.toml).")
    var project: String

    @Option(help: "Binary target to build (cargo --bin).")
    var bin: String?

    @Option(help: "Package to build (cargo --package).")
    var package: String?

    @Flag(help: "Build with the release profile.")
    var release = false
}
