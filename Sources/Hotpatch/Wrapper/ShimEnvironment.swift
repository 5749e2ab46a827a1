/// Environment variables through which `FatBuild.run` configures the shims. A contract between
/// `whisker-dev` and the shim executables of the same build; nothing outside the package sets them.
public enum ShimEnvironment {
    /// Directory the shims write captures into (`<build dir>/captures`); unset → record nothing.
    public static let captureDirectory = "WHISKER_CAPTURE_DIR"
    /// The linker `whisker-linker-shim` runs after recording (path or a name found on PATH).
    public static let realLinker = "WHISKER_REAL_LINKER"
    /// Arguments the linker shim appends to every link, separated by U+001F (as cargo's
    /// `CARGO_ENCODED_RUSTFLAGS` does), e.g. `-Wl,--export-dynamic`.
    public static let extraLinkArguments = "WHISKER_LINK_ARGS"
    /// "1": the linker shim links every `.rlib` whole (`WholeArchiveLink`), falling back to
    /// rustc's own link when that fails.
    public static let wholeArchive = "WHISKER_LINK_WHOLE_ARCHIVE"
    /// Directory holding the shim executables; overrides the "next to whisker-dev" lookup (tests).
    public static let shimDirectory = "WHISKER_SHIM_DIR"
    /// Separator of `extraLinkArguments`.
    public static let argumentSeparator: Character = "\u{1F}"
}
