import Foundation

extension LocalStorage {
    /// Runs `body` while holding the lock `lockName` of `context`: exclusive among all threads
    /// of all processes that use this storage root.
    ///
    /// The lock is a kernel lock: it is released when `body` returns or throws, and by the
    /// kernel the moment a holding process dies, so a crashed holder never blocks anyone. A
    /// waiter without a timeout sleeps in the kernel and wakes as soon as the lock is free.
    ///
    /// Locks are not recursive: a thread that holds a lock here and asks to wait for it again
    /// gets `.invalidArgument` rather than a wait that would never end. (A lock from
    /// ``tryLock(_:context:)`` may be unlocked by any thread, so waiting for it is no error.) A
    /// thread holding one lock may take others; the usual rule applies to avoid deadlocks
    /// between holders (take locks in one order). Locks leave nothing on disk per name, and do
    /// not show in `listStoredFiles`. The lock name space is separate from stored names: locking
    /// "a" does not touch a file "a", nor delay `cachedData(fileName: "a", ...)`.
    ///
    /// - Parameters:
    ///   - lockName: The lock's name, validated like a file name (`fileName(for:)` is not
    ///     applied: a lock is not a file).
    ///   - context: The context it belongs to, validated like any context; it need not exist
    ///     and is not created.
    ///   - timeout: The longest to wait for a lock held elsewhere; nil (the default) waits as
    ///     long as it takes. A bounded wait polls every 1 to 10 ms.
    ///   - body: The work to do under the lock. Its errors are rethrown unchanged.
    /// - Returns: What `body` returns.
    /// - Throws: `LocalStorageError`: `.invalidName` for an invalid name or context (before any
    ///   syscall); `.timedOut` when `timeout` ran out; `.invalidArgument` for a negative
    ///   timeout, or when this thread holds the lock already; `.readOnlyFileSystem` or
    ///   `.permissionDenied` when the lock file cannot be created or opened for writing (locks
    ///   need a writable root); `.unsafePath` when a symlink sits at `.ls-meta` or at the lock
    ///   file. And whatever `body` throws.
    ///
    /// ## Implementation
    ///
    /// An open file description lock (`fcntl(F_OFD_SETLKW)`; a bounded wait polls
    /// `F_OFD_SETLK`) on one byte of the engine's lock file, `.ls-meta/locks`, chosen by a hash
    /// of the lock's context and name.
    public func withLock<R>(_ lockName: String, context: String, timeout: Duration? = nil, _ body: () throws -> R) throws -> R {
        let target = try lockTarget(lockName, context)
        let lock = try acquireNamedLock(target, timeout: timeout)
        let outcome = Result(catching: body)
        lock.release()
        return try outcome.get()
    }

    /// Takes the lock `lockName` of `context` if no one else holds it, without waiting.
    ///
    /// The same lock as ``withLock(_:context:timeout:_:)-7otez`` takes, held until
    /// ``StorageLock/unlock()``, until
    /// the returned value is deinitialized, or until this process dies.
    ///
    /// - Parameters:
    ///   - lockName: The lock's name, validated like a file name.
    ///   - context: The context it belongs to; it need not exist and is not created.
    /// - Returns: The held lock, or nil when another thread (this one included, through an
    ///   earlier lock) or process holds it.
    /// - Throws: `LocalStorageError`: `.invalidName` for an invalid name or context;
    ///   `.readOnlyFileSystem` or `.permissionDenied` when the lock file cannot be opened for
    ///   writing; `.unsafePath` when a symlink sits at `.ls-meta` or at the lock file.
    public func tryLock(_ lockName: String, context: String) throws -> StorageLock? {
        let target = try lockTarget(lockName, context)
        guard let lock = try acquire(.named, target, wait: .never, scoped: false, operation: .lock) else { return nil }
        return StorageLock(lock)
    }
}
