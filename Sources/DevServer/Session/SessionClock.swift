import Foundation

/// Where a session's time comes from: the instants its records and latencies carry, the
/// durations it reports, and the age after which a silent device is `lost`.
///
/// Injected so tests can stand still or jump ahead (a device's 90 s of silence in no time, a
/// latency of exactly 200 ms); the pipeline's own phase timings are the pipeline's.
protocol SessionClock: Sendable {
    /// The wall clock: `createdAt`, `startedAt`, `lastSeenAt`, latency instants.
    func now() -> Date
    /// A monotonic reading, for durations (a build's elapsed time, the warm-up's).
    func instant() -> ContinuousClock.Instant
}

/// The system's clocks.
struct SystemClock: SessionClock {
    func now() -> Date { Date() }
    func instant() -> ContinuousClock.Instant { .now }
}
