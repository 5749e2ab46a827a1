@testable import DevServer
import Foundation
import Synchronization

/// A session clock that stands still until a test (or a fake pipeline step) moves it, so
/// instants and durations are exact: 200 ms of compile is 200 ms.
final class ManualClock: SessionClock {
    /// 2027-01-15T08:00:00Z: a fixed start, whole seconds.
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    private let baseInstant = ContinuousClock.now
    private let elapsed = Mutex<Duration>(.zero)

    func now() -> Date {
        Self.start.addingTimeInterval(seconds(elapsed.withLock { $0 }))
    }

    func instant() -> ContinuousClock.Instant {
        baseInstant + elapsed.withLock { $0 }
    }

    func advance(by duration: Duration) {
        elapsed.withLock { $0 += duration }
    }

    /// The wall-clock instant `offset` after the start.
    static func at(_ offset: Duration) -> Date {
        start.addingTimeInterval(seconds(offset))
    }
}

private func seconds(_ duration: Duration) -> TimeInterval {
    let (whole, attoseconds) = duration.components
    return TimeInterval(whole) + TimeInterval(attoseconds) / 1e18
}
