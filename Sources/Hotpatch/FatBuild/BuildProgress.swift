/// Progress of a fat build, delivered while it runs so the CLI and the server's event stream can
/// show it.
public enum BuildProgress: Sendable, Equatable {
    case phaseStarted(String)
    case phaseFinished(PhaseTiming)
    /// cargo finished a unit; `compiled` and `fresh` count the units so far.
    case crateFinished(name: String, fresh: Bool, compiled: Int, freshCount: Int)
    /// A line cargo printed for people (`Compiling …`, warnings, errors).
    case output(String)
}
