import Foundation

// The get-or-compute sequence of `cachedObject` and `cachedData`.

extension LocalStorage {
    /// A hit is `lookup` alone. On a miss: take the entry's lock (waiting while another thread
    /// or process computes it), look again (it may have stored the result meanwhile), compute,
    /// store atomically, release. Correctness never depends on the lock (every store is an
    /// atomic replace, so readers see a complete version); it only saves duplicate work.
    ///
    /// - Parameters:
    ///   - target: The validated entry (its mapped name keys the lock).
    ///   - lookup: The stored value, or nil for a miss or an entry to recompute.
    ///   - compute: The caller's computation; what it throws reaches this caller only, unchanged,
    ///     and nothing is stored (the lock is released, and a waiter computes next).
    ///   - store: Stores the computed value atomically.
    func getOrCompute<Value>(
        _ target: Target, lookup: () throws -> Value?, compute: () throws -> Value, store: (Value) throws -> Void
    ) throws -> Value {
        if let hit = try lookup() { return hit }
        guard let lock = try acquire(.cacheEntry, target, wait: .forever, scoped: true, operation: .cache) else {
            // A wait without end returns only once granted; this is for the type checker.
            throw LocalStorageError(code: .timedOut, operation: .cache, message: "the entry's lock was not granted")
        }
        let outcome = Result { () throws -> Value in
            if let hit = try lookup() { return hit }
            let value = try compute()
            try store(value)
            return value
        }
        lock.release()
        return try outcome.get()
    }

    /// Runs a storage call on behalf of a cache call: its errors are reported as `.cache`'s.
    /// (Never wrapped around the caller's compute closure, whose errors pass unchanged.)
    func asCacheOperation<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch var error as LocalStorageError {
            error.operation = .cache
            throw error
        }
    }

    /// A stored object for the cache: nil when missing, and nil when stored but damaged
    /// (`.corrupted`) or no longer of this type (`.decodingFailed`), so that it is recomputed.
    func cachedObjectEntry<T: Decodable>(_ type: T.Type, fileName: String, context: String) throws -> T? {
        do {
            return try asCacheOperation { try downloadObjectIfExists(type, fileName: fileName, context: context) }
        } catch let error as LocalStorageError where error.code == .corrupted || error.code == .decodingFailed {
            return nil
        }
    }
}
