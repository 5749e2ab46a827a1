@testable import DevServer
import Foundation
import Hotpatch
import Testing

/// The terminal UI's parts without a terminal: the quit trigger, the status screen's bytes, the
/// status lines' text.
@Suite struct ServeTerminalTests {
    /// `q` fires the trigger, possibly before the wait has begun: the wait still ends, with SIGINT.
    @Test func aTriggerFiredBeforeTheWaitEndsIt() async {
        let app = DevServerApp(configuration: DevServerConfiguration(port: 0))
        let trigger = TerminationTrigger()
        trigger.fire(SIGINT)
        // SIGUSR2 only: no real signal is involved, and none may disturb the test runner.
        let received = await app.waitForTerminationSignal([SIGUSR2], trigger: trigger)
        #expect(received == SIGINT)
    }

    /// A log line erases the status lines, takes their place, and they are drawn again below it,
    /// cut to the width; after `close` lines are written plainly.
    @Test func logLinesGoAboveTheStatusLines() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let screen = StatusScreen(fileDescriptor: fds[1], columns: { 30 })
        screen.setStatus([StatusLine(text: "build ok"), StatusLine(text: String(repeating: "x", count: 50), style: .dim)])
        screen.printLine("a log line\n")
        screen.setStatus([StatusLine(text: "build ok"), StatusLine(text: String(repeating: "x", count: 50), style: .dim)])  // unchanged: nothing
        screen.close()
        screen.printLine("after")
        close(fds[1])
        let output = String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile(), as: UTF8.self)
        let status = "build ok\n\u{1B}[2m" + String(repeating: "x", count: 28) + "…\u{1B}[0m"
        let erase = "\r\u{1B}[2K\u{1B}[1A\u{1B}[2K"
        #expect(output == status + erase + "a log line\n" + status + erase + "after\n", "\(output.debugDescription)")
    }

    @Test func statusLinesNameTheKeysAndSummarizeDevices() throws {
        let legend = ServeStatusLines.legend(pageURL: "http://127.0.0.1:9630/", deviceLogs: true)
        #expect(legend == "r patch now · R hot restart · o open http://127.0.0.1:9630/ · l device logs: on · q quit")
        #expect(ServeStatusLines.devices([]) == "no devices")
        let build = try #require(BuildID("b20270101-000000-aaaaaa"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func device(_ id: String, _ state: DeviceState) -> DeviceRecord {
            DeviceRecord(id: id, name: "app", pid: 1, triple: "x86_64-unknown-linux-gnu", buildId: build, aslrReference: 0,
                         state: state, registeredAt: now, lastSeenAt: now)
        }
        #expect(ServeStatusLines.devices([device("d1", .up_to_date), device("d2", .lost), device("d3", .up_to_date)])
            == "3 devices: 2 up to date, 1 lost")
        var patch = PatchRecord(id: 4, buildId: build, state: .succeeded, trigger: .cli, createdAt: now,
                                startedAt: now, finishedAt: now.addingTimeInterval(0.412))
        patch.phases = [PhaseTiming(name: "rustc counter", durationMs: 230.4), PhaseTiming(name: "link", durationMs: 40.6)]
        #expect(ServeStatusLines.patchSummary(patch, now: now) == "patch 4 succeeded in 412 ms")
        #expect(ServeStatusLines.patchDetail(patch) == "patch 4: rustc counter 230, link 41 ms")
        #expect(ServeStatusLines.milliseconds(3450) == "3.5 s" || ServeStatusLines.milliseconds(3450) == "3.4 s")
    }
}
