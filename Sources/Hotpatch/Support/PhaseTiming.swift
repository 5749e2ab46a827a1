/// How long one named phase of a stage took. Stages report a list of these (`phases` in
/// build.json, the PatchPlan and `--json` outputs) so benchmarks and the UI can show where time goes.
public struct PhaseTiming: Codable, Sendable, Equatable {
    public var name: String
    public var durationMs: Double

    public init(name: String, durationMs: Double) {
        self.name = name
        self.durationMs = durationMs
    }

    public init(name: String, duration: Duration) {
        self.init(name: name, durationMs: duration.milliseconds)
    }
}

extension Duration {
    /// Milliseconds as a `Double`, rounded to microseconds: the unit every timing in this package uses.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return (ms * 1000).rounded() / 1000
    }
}

/// Measures consecutive phases with the monotonic clock.
struct PhaseClock {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var phaseStart: ContinuousClock.Instant
    private(set) var phases: [PhaseTiming] = []

    init() {
        start = clock.now
        phaseStart = start
    }

    /// Ends the current phase under `name` and starts the next one; returns the phase's timing.
    @discardableResult
    mutating func lap(_ name: String) -> PhaseTiming {
        let now = clock.now
        let timing = PhaseTiming(name: name, duration: now - phaseStart)
        phases.append(timing)
        phaseStart = now
        return timing
    }

    /// Restarts the current phase without recording (time spent between phases that belongs to none).
    mutating func skip() { phaseStart = clock.now }

    var elapsed: Duration { clock.now - start }
}
