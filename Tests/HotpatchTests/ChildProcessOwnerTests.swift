import Foundation
import Testing
@testable import Hotpatch

/// The orphan stop of a restarted server, on real processes: `sleep`s marked as the children of
/// a server that no longer runs are killed; those of a running server, of another project or
/// unmarked are not.
@Suite struct ChildProcessOwnerTests {
    #if os(Linux)
    @Test func onlyTheChildrenOfAServerThatNoLongerRunsAreStopped() throws {
        let root = URL(fileURLWithPath: "/tmp/whisker-owner-\(UUID().uuidString.prefix(8))/cache/projects/p-1")
        // A pid no process has (beyond pid_max), and this process with its real start time.
        let gone = "\(root.path)|4194399|12345"
        let me = "\(root.path)|\(getpid())|\(try #require(ChildProcessOwner.startTime(of: getpid())))"
        // This pid, started at another time: the pid was reused, its server is gone.
        let reused = "\(root.path)|\(getpid())|1"
        let other = "/tmp/another/cache/projects/q-2|4194399|12345"
        var sleepers: [(mark: String?, process: Process)] = []
        for mark in [gone, me, reused, other, nil] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sleep")
            process.arguments = ["60"]
            var environment = ProcessInfo.processInfo.environment
            environment[ChildProcessOwner.variable] = mark
            process.environment = environment
            try process.run()
            sleepers.append((mark, process))
        }
        defer { for sleeper in sleepers where sleeper.process.isRunning { kill(sleeper.process.processIdentifier, SIGKILL) } }
        // Let each exec (the environment is read from /proc/<pid>/environ).
        Thread.sleep(forTimeInterval: 0.2)

        let stopped = ChildProcessOwner.stopOrphans(root: root)
        // `reused` names this pid with another start time: a server that had this pid before.
        let orphans = [sleepers[0], sleepers[2]]
        #expect(Set(stopped.map(\.pid)) == Set(orphans.map(\.process.processIdentifier)), "\(stopped)")
        #expect(stopped.allSatisfy { $0.name == "sleep" })
        for orphan in orphans {
            orphan.process.waitUntilExit()
            #expect(orphan.process.terminationReason == .uncaughtSignal && orphan.process.terminationStatus == SIGKILL)
        }
        for sleeper in [sleepers[1], sleepers[3], sleepers[4]] {
            #expect(sleeper.process.isRunning, "\(sleeper.mark ?? "unmarked") was stopped")
        }
    }

    @Test func aServerMarksItselfAndTheEnvironmentsItStartsChildrenWith() throws {
        let before = ChildProcessOwner.current
        defer {
            if let before { setenv(ChildProcessOwner.variable, before, 1) } else { unsetenv(ChildProcessOwner.variable) }
        }
        let root = URL(fileURLWithPath: "/tmp/whisker-owner-mark/cache/projects/p-1")
        ChildProcessOwner.claim(root: root)
        let mark = try #require(ChildProcessOwner.current)
        #expect(mark == "\(root.path)|\(getpid())|\(ChildProcessOwner.startTime(of: getpid()) ?? "?")")
        // A captured environment carries some earlier server's mark: replaced.
        let captured = [ChildProcessOwner.variable: "/old|1|1", "PATH": "/usr/bin"]
        #expect(ChildProcessOwner.marking(captured) == [ChildProcessOwner.variable: mark, "PATH": "/usr/bin"])
    }
    #endif
}
