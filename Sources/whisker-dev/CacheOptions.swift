import ArgumentParser
import Hotpatch

/// `--cache-dir`, shared by every command that reads or writes the cache.
struct CacheOptions: ParsableArguments {
    @Option(
        name: .customLong("cache-dir"),
        help: ArgumentHelp(
            "Cache directory (default: $WHISKER_CACHE_DIR, else $XDG_CACHE_HOME/whisker-hotpatch, else ~/.cache/whisker-hotpatch).",
            valueName: "dir"))
    var cacheDirectory: String?

    /// The directory chosen by flag and environment.
    var resolvedDirectory: String {
        HotpatchModuleCache.resolveDirectory(explicit: cacheDirectory)
    }

    func makeModuleCache() -> HotpatchModuleCache {
        HotpatchModuleCache(directory: cacheDirectory)
    }
}
