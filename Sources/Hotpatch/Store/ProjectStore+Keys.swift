/// The pipeline's records in the project store (the server adds its journal).
extension ProjectStore.Key where Value == ProjectState {
    /// What the next patch is compared against (sources, last build and patch ids).
    public static var projectState: Self { .init("project-state", legacyFile: "state.json") }
}

extension ProjectStore.Key where Value == BaselineRecord {
    /// Per-function diff baselines: the objects recent patches of the current build compiled.
    static var functionBaseline: Self { .init("function-baseline", legacyFile: "function-baseline.json") }
}

extension ProjectStore.Key where Value == PatchStaticsRecord {
    /// Which patch library exports each static a patch of the current build added.
    static var patchStatics: Self { .init("patch-statics", legacyFile: "patch-statics.json") }
}

extension ProjectStore.Key where Value == EntryPatchedFunctions {
    /// The functions entry-patched so far for the current build.
    static var entryPatched: Self { .init("entry-patched", legacyFile: "entry-patched.json") }
}
