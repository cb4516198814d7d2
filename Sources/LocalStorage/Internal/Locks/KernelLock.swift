import Glibc
import Synchronization

/// How long an acquisition may wait for a lock held elsewhere.
enum LockWait: Sendable {
    /// Not at all (`tryLock`).
    case never
    /// Until granted: blocked in F_OFD_SETLKW, woken by the kernel the moment the holder
    /// releases or dies.
    case forever
    /// Until the monotonic clock reaches this many nanoseconds.
    case until(UInt64)

    var mayWait: Bool {
        if case .never = self { return false }
        return true
    }
}

/// The calling thread already holds the lock it asked to wait for: waiting would never end.
struct LockHeldByThisThread: Error {}

/// An exclusive OFD lock on one byte of the lock file, through a description of its own. The
/// kernel releases it when `release()` unlocks it, or when the process dies. Not copyable, so
/// that it is released (and its descriptor closed) exactly once.
struct HeldLock: ~Copyable, Sendable {
    fileprivate let fd: CInt
    fileprivate let identity: LockIdentity
    fileprivate let scoped: Bool

    /// Unlocks, then closes. The explicit unlock matters: a child forked meanwhile (between its
    /// fork and exec) holds a copy of the descriptor, which alone would keep the lock. A failed
    /// unlock is left to the close.
    consuming func release() {
        // Forgotten before the unlock: once unlocked, another thread may take it and be noted.
        if scoped { scopedLocksOfThisProcess.withLock { _ = $0.removeValue(forKey: identity) } }
        _ = try? retrying(.ofdSetLock) { system_ofd_lock(fd, wait: false, CInt(F_UNLCK), identity.offset, 1) }
        closeDescriptor(fd)
    }
}

/// A lock as the kernel knows it: a byte of one file.
private struct LockIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var offset: off_t
}

/// The thread holding each scoped lock of this process (held by `withLock` or a cache
/// computation, so released by that thread only, once the scope returns): a thread asking to
/// wait for one it holds itself gets an error instead of a wait that could never end. OFD locks
/// belong to descriptions, not threads, and the kernel does no deadlock detection for them.
/// Locks from `tryLock` are not here: any thread may unlock them, so waiting for one is no
/// deadlock.
private let scopedLocksOfThisProcess = Mutex<[LockIdentity: pthread_t]>([:])

/// Polling interval bounds for waits with a deadline (F_OFD_SETLKW cannot time out).
private let firstPollNanoseconds: UInt64 = 1_000_000
private let longestPollNanoseconds: UInt64 = 10_000_000

extension Engine {
    /// Takes the exclusive lock on byte `offset` of the lock file, waiting as `wait` allows.
    /// - Parameter scoped: The lock is released by this thread before its caller returns
    ///   (`withLock`, a cache computation), rather than handed out (`tryLock`).
    /// - Returns: The held lock, or nil when another description holds it and `wait` ran out.
    /// - Throws: `LockHeldByThisThread` (before any wait) when this thread holds it already in
    ///   a scope and would wait; `SyscallError`; `NotARegularFile` if something else was planted
    ///   as the lock file.
    func acquireLock(at offset: off_t, wait: LockWait, scoped: Bool) throws -> HeldLock? {
        let file = try openLockFile()
        let identity = LockIdentity(device: file.device, inode: file.inode, offset: offset)
        let thread = pthread_self()
        let granted: Bool
        do {
            if wait.mayWait, scopedLocksOfThisProcess.withLock({ $0[identity] == thread }) {
                throw LockHeldByThisThread()
            }
            granted = try lock(file.fd, at: offset, wait: wait)
        } catch {
            closeDescriptor(file.fd)
            throw error
        }
        guard granted else {
            closeDescriptor(file.fd)
            return nil
        }
        if scoped { scopedLocksOfThisProcess.withLock { $0[identity] = thread } }
        return HeldLock(fd: file.fd, identity: identity, scoped: scoped)
    }

    /// The kernel call(s): true once granted, false when held elsewhere and `wait` ran out.
    private func lock(_ fd: CInt, at offset: off_t, wait: LockWait) throws(SyscallError) -> Bool {
        switch wait {
        case .forever:
            _ = try retrying(.ofdSetLockWait) { system_ofd_lock(fd, wait: true, CInt(F_WRLCK), offset, 1) }
            return true
        case .never:
            return try tryLock(fd, at: offset)
        case .until(let deadline):
            var pause = firstPollNanoseconds
            while true {
                if try tryLock(fd, at: offset) { return true }
                let now = monotonicNanoseconds()
                if now >= deadline { return false }
                sleep(nanoseconds: min(pause, deadline - now))
                pause = min(pause * 2, longestPollNanoseconds)
            }
        }
    }

    /// One F_OFD_SETLK: false when a conflicting lock is held (EAGAIN, or EACCES as POSIX allows).
    private func tryLock(_ fd: CInt, at offset: off_t) throws(SyscallError) -> Bool {
        do {
            _ = try retrying(.ofdSetLock) { system_ofd_lock(fd, wait: false, CInt(F_WRLCK), offset, 1) }
            return true
        } catch  where error.errno == .tryAgain || error.errno.rawValue == EACCES {
            return false
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// How to wait at most `timeout` (not negative): until a deadline on the monotonic clock, or
/// forever when the deadline would lie beyond what the clock can count (centuries).
func lockWait(atMost timeout: Duration) -> LockWait {
    let (seconds, attoseconds) = timeout.components
    let (scaled, overflow) = UInt64(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return .forever }
    let (total, overflow2) = scaled.addingReportingOverflow(UInt64(clamping: attoseconds / 1_000_000_000))
    if overflow2 { return .forever }
    let (deadline, overflow3) = monotonicNanoseconds().addingReportingOverflow(total)
    return overflow3 ? .forever : .until(deadline)
}

/// Sleeps about `nanoseconds` (an interruption only shortens it; callers check the clock).
private func sleep(nanoseconds: UInt64) {
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    _ = nanosleep(&request, nil)
}
