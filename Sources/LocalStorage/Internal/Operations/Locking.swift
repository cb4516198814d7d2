import Foundation

// What the lock calls do around the engine: validate the lock's name and context, choose how
// to wait, and turn failures into `LocalStorageError`s.

extension LocalStorage {
    /// Validates a lock name like a file name and its context, before any syscall.
    /// `fileName(for:)` is not applied: a lock is not a stored file.
    func lockTarget(_ lockName: String, _ context: String) throws -> Target {
        if let problem = fileNameProblem(lockName) {
            throw LocalStorageError(invalid: problem, what: "lock name", value: lockName, operation: .lock)
        }
        try validate(context, .lock)
        return Target(context: context, name: lockName)
    }

    /// Takes a named lock, waiting forever (`timeout` nil) or at most `timeout`.
    func acquireNamedLock(_ target: Target, timeout: Duration?) throws -> HeldLock {
        var wait = LockWait.forever
        if let timeout {
            guard timeout >= .zero else {
                throw LocalStorageError(code: .invalidArgument, operation: .lock, message: "the lock timeout \(timeout) is negative")
            }
            wait = lockWait(atMost: timeout)
        }
        guard let lock = try acquire(.named, target, wait: wait, scoped: true, operation: .lock) else {
            throw LocalStorageError(
                code: .timedOut, operation: .lock,
                message:
                    "lock '\(target.name)' in context '\(target.context)' is held elsewhere and was not released within \(timeout ?? .zero)"
            )
        }
        return lock
    }

    /// Takes a lock, waiting as `wait` allows; nil when it is held elsewhere and `wait` ran out.
    /// `scoped`: this thread releases it before its caller returns (see `Engine.acquireLock`).
    func acquire(
        _ domain: LockDomain, _ target: Target, wait: LockWait, scoped: Bool, operation: LocalStorageError.Operation
    ) throws -> HeldLock? {
        let slot = lockSlot(domain, context: target.context, name: target.name)
        do {
            return try run(operation, lockFilePath) { try engine.acquireLock(at: slot, wait: wait, scoped: scoped) }
        } catch is LockHeldByThisThread {
            let what =
                switch domain {
                case .named: "this thread already holds lock '\(target.name)' in context '\(target.context)' (locks are not recursive)"
                case .cacheEntry:
                    "this thread is computing '\(target.name)' in context '\(target.context)' already (its compute closure asked for it)"
                }
            throw LocalStorageError(code: .invalidArgument, operation: operation, message: what + ": waiting for it would never end")
        }
    }
}
