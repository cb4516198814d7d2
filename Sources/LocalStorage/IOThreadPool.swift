import Foundation
import Glibc
import Synchronization

/// The threads on which the async API makes its blocking syscalls, so that they never block a
/// thread of Swift's cooperative pool (which has one thread per core: two blocked reads there
/// stall every task of a two-core machine).
///
/// Threads start on demand, up to ``maximumThreads``, and then wait for work. The async API of
/// every ``LocalStorage/LocalStorage`` runs on ``shared``; set its ``maximumThreads`` to resize
/// it. A pool's threads live as long as the process.
public final class IOThreadPool: Sendable {
    /// The pool every storage uses by default: at most 4 threads. Calls that wait on a disk
    /// gain from a few at once; calls served from the page cache are CPU work in the kernel, and
    /// more threads than that only take CPU time from the cooperative pool (with 1,000
    /// concurrent 64 MiB downloads on two cores, a 10 ms timer ran 24-30 ms late at most with 1-2
    /// threads, 43-70 ms with 4, 66-218 ms with 8 and 140-640 ms with 16, on a loaded machine).
    /// Raise `maximumThreads` for slow disks.
    public static let shared = IOThreadPool(maximumThreads: 4)

    private let queue: JobQueue
    private let limit: Atomic<Int>

    /// Creates a pool that starts at most `maximumThreads` threads (at least 1).
    /// - Parameter maximumThreads: The most threads the pool runs at once.
    public init(maximumThreads: Int) {
        queue = JobQueue()
        limit = Atomic(max(1, maximumThreads))
    }

    /// The most threads the pool runs at once. Raising it takes effect for the next call;
    /// lowering it lets surplus threads finish their job and wait.
    public var maximumThreads: Int {
        get { limit.load(ordering: .relaxed) }
        set { limit.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Runs `body` on one of the pool's threads and returns what it returns. Cancelling the
    /// calling task sets the flag that the engine's transfer loops check between chunks.
    func run<R>(_ body: @escaping @Sendable () throws -> sending R) async throws -> sending R {
        try Task.checkCancellation()
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
                queue.enqueue(maximumThreads: maximumThreads) {
                    do {
                        let result = try CancellationFlag.$current.withValue(flag) { try body() }
                        continuation.resume(returning: result)
                    } catch {
                        continuation.resume(throwing: flag.isCancelled && isCancellation(error) ? CancellationError() : error)
                    }
                }
            }
        } onCancel: {
            flag.cancel()
        }
    }
}

/// Whether `error` is the engine stopping a transfer because its task was cancelled.
private func isCancellation(_ error: any Error) -> Bool {
    if let error = error as? LocalStorageError { return error.errno == ECANCELED }
    if let error = error as? SyscallError { return error.errno.rawValue == ECANCELED }
    return error is CancellationError
}
