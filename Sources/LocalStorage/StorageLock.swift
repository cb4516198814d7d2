import Synchronization

/// A named lock held across threads and processes, from `LocalStorage.tryLock(_:context:)`.
///
/// The kernel holds it for this process; it is released by `unlock()`, when the value is
/// deinitialized, or by the kernel the moment the process dies (even by SIGKILL). It may be
/// handed to and unlocked from any thread.
public final class StorageLock: Sendable {
    private let held: Mutex<HeldLock?>

    init(_ lock: consuming HeldLock) {
        held = Mutex(lock)
    }

    /// Releases the lock; the next waiter, in this process or another, gets it. Later calls do
    /// nothing.
    public func unlock() {
        if let lock = held.withLock({ $0.take() }) { lock.release() }
    }

    deinit { unlock() }
}
