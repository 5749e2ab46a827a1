import Dispatch

/// Runs `Response.async` work on Dispatch's threads instead of Swift's cooperative pool (one
/// thread per core): a route or a caller that blocks cooperative threads (waiting on a process,
/// a synchronous socket read in the same process) must not stall every async answer.
final class RouteTaskExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = RouteTaskExecutor()

    private let queue = DispatchQueue(label: "whisker.async-routes", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
