#if S3
import Foundation

/// Runs async work for synchronous callers on threads of its own, never on the Swift
/// concurrency pool.
///
/// A synchronous `S3Storage` call may come from a thread of the cooperative pool. Blocking that
/// thread on a semaphore until a `Task` finishes deadlocks once every pool thread is such a
/// caller (two callers on a two-core machine): the tasks they wait for have nowhere to run. Here
/// the work runs with this executor as its task executor preference, so it and every child task
/// run on these threads, and the network I/O itself on async-http-client's event loops.
final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `condition`'s lock.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    /// Starts `threads` threads that run jobs until the process exits.
    init(threads: Int, name: String) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in runJobs() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// Runs `operation` on this executor and blocks the calling thread until it returns.
    func runBlocking<R: Sendable>(_ operation: @escaping @Sendable () async throws -> R) throws -> R {
        let completion = Completion<R>()
        Task(executorPreference: self) {
            do { completion.fulfil(.success(try await operation())) } catch { completion.fulfil(.failure(error)) }
        }
        return try completion.wait().get()
    }

    /// A result that one thread waits for and another sets.
    private final class Completion<R: Sendable>: @unchecked Sendable {
        // @unchecked: `result` is guarded by `condition`'s lock.
        private let condition = NSCondition()
        private var result: Result<R, any Error>?

        func fulfil(_ outcome: Result<R, any Error>) {
            condition.lock()
            result = outcome
            condition.signal()
            condition.unlock()
        }

        func wait() -> Result<R, any Error> {
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let result { return result }
                condition.wait()
            }
        }
    }

    /// The executor shared by every S3Storage: two threads, since the work on them is mostly
    /// signing, copying buffers and short file reads; the waiting happens on the event loops.
    static let shared = DedicatedExecutor(threads: 2, name: "S3Storage")
}
#endif
