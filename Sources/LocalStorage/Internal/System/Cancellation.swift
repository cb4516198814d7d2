import Glibc
import Synchronization

/// Set when the task that asked for a call on the I/O pool is cancelled. The engine's transfer
/// loops check it between chunks (`checkCancellation`) and stop with ECANCELED, which takes the
/// ordinary failure path: the temp file is removed and the previous version stays.
final class CancellationFlag: Sendable {
    /// The flag of the call running on this thread, if it came from the async API.
    @TaskLocal static var current: CancellationFlag?

    private let cancelled = Atomic<Bool>(false)

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
}

/// The largest chunk one transfer syscall moves when the call can be cancelled, so that a
/// cancelled transfer stops within one chunk.
let cancellableChunk = 1 << 20

/// The chunk limit for one transfer syscall: `limit`, or `cancellableChunk` for a call that can
/// be cancelled.
@inline(__always)
func transferChunk(_ limit: Int) -> Int {
    CancellationFlag.current == nil ? limit : min(limit, cancellableChunk)
}

/// Throws ECANCELED (as a failure of `syscall`, the call about to be made) if the async call
/// this thread runs for was cancelled.
@inline(__always)
func checkCancellation(before syscall: Syscall) throws(SyscallError) {
    if let flag = CancellationFlag.current, flag.isCancelled {
        throw SyscallError(syscall: syscall, errno: Errno(rawValue: ECANCELED))
    }
}
