import DevServer
import Foundation
import Synchronization
import Testing

/// `waitForTerminationSignal` returns the signal instead of letting it kill the process.
@Suite struct SignalTests {
    @Test func returnsTheSignalReceived() async throws {
        let app = DevServerApp(configuration: DevServerConfiguration(port: 0))
        // SIGUSR2 rather than SIGINT/SIGTERM so a stray delivery cannot disturb the test runner.
        // Ignored first, and sent until noticed: the wait may start after the first delivery.
        signal(SIGUSR2, SIG_IGN)
        let done = Atomic(false)
        Thread.detachNewThread {
            while !done.load(ordering: .acquiring) {
                kill(getpid(), SIGUSR2)
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        let received = await app.waitForTerminationSignal([SIGUSR2])
        done.store(true, ordering: .releasing)
        #expect(received == SIGUSR2)
    }
}
