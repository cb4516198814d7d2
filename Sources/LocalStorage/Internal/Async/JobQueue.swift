internal import CLocalStorage
import Foundation
import Synchronization

/// The work of an `IOThreadPool`: a FIFO of jobs, and threads started on demand that take them.
final class JobQueue: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var threads = 0
        var idle = 0
    }

    private let state = Mutex(State())
    /// Signalled once per job enqueued while a thread is idle.
    private let wakeups = DispatchSemaphore(value: 0)

    /// Adds a job; wakes an idle thread, or starts one if fewer than `maximumThreads` run.
    func enqueue(maximumThreads: Int, _ job: @escaping @Sendable () -> Void) {
        enum Action { case wake, start, none }
        let action = state.withLock { state -> Action in
            state.jobs.append(job)
            if state.idle > 0 {
                state.idle -= 1
                return .wake
            }
            if state.threads < maximumThreads {
                state.threads += 1
                return .start
            }
            return .none
        }
        switch action {
        case .wake: wakeups.signal()
        case .start: startThread()
        case .none: break
        }
    }

    private func startThread() {
        let thread = Thread { [self] in
            // Below the cooperative pool: a thread copying 64 MiB in the kernel must not delay
            // the tasks that wait for CPU time (nice +5: about a third of a nice-0 thread's share
            // when they compete; all of the CPU when they do not). Best effort.
            _ = CLocalStorage_lower_thread_priority(5)
            work()
        }
        thread.name = "LocalStorage I/O"
        thread.start()
    }

    /// A pool thread: takes jobs until there are none, then waits for the next.
    private func work() {
        while true {
            let job = state.withLock { state -> (@Sendable () -> Void)? in
                guard state.head < state.jobs.count else {
                    state.idle += 1
                    return nil
                }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head >= 1024 && state.head * 2 >= state.jobs.count {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
            if let job {
                job()
            } else {
                wakeups.wait()
            }
        }
    }
}
