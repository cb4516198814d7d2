import Foundation

// The async API for objects, arrays, get-or-compute and locks. Encoding and decoding run on the
// calling task (CPU work belongs on the cooperative pool); the reads and writes run on the I/O
// pool. Waiting for a lock never holds a thread: the lock is tried without blocking, and the
// task sleeps 1-10 ms between tries, so a waiter takes over within about 10 ms of a release
// (the synchronous calls, blocked in the kernel, take over at once).

extension LocalStorage {
    // MARK: Objects and arrays

    /// Stores a `Codable` value in the compact binary format:
    /// ``uploadObject(_:fileName:context:)-2wtkw`` with its encoding on the calling task and its
    /// write on the I/O pool.
    /// - Parameters:
    ///   - object: The value to store.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadObject<T: Encodable>(_ object: T, fileName: String, context: String) async throws -> String {
        try await uploadObject(object, fileName: fileName, context: context, encoding: .binary)
    }

    /// Stores a `Codable` value in the given encoding:
    /// ``uploadObject(_:fileName:context:encoding:)-6e8rs`` with its encoding on the calling task
    /// and its write on the I/O pool.
    /// - Parameters:
    ///   - object: The value to store.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - encoding: How to encode the value.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadObject<T: Encodable>(
        _ object: T, fileName: String, context: String, encoding: ObjectEncoding
    ) async throws -> String {
        let target = try target(fileName, context, .uploadObject)
        let payload: [UInt8] = try runObject(.uploadObject, target) {
            do throws(ObjectFormatError) {
                return try encodeObjectPayload(object, encoding: encoding)
            } catch {
                throw ObjectFailure(failure: error)
            }
        }
        let header = payload.withUnsafeBytes { ObjectHeader.object(payload: $0, encoding: encoding).serialized() }
        let engine = self.engine
        try await offload {
            try self.runObject(.uploadObject, target) {
                try payload.withUnsafeBytes { bytes in try engine.upload(header: header, payload: bytes, as: target) }
            }
        }
        return target.name
    }

    /// The value stored with `uploadObject`: ``downloadObject(_:fileName:context:)-50913`` with its
    /// read on the I/O pool and its checksum and decoding on the calling task.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The value.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadObject<T: Decodable>(_ type: T.Type, fileName: String, context: String) async throws -> T {
        let target = try target(fileName, context, .downloadObject)
        let engine = self.engine
        let content = try await offload { try self.runObject(.downloadObject, target) { try engine.download(target) } }
        return try runObject(.downloadObject, target) { try decodeObjectFile(type, content) }
    }

    /// The value stored with `uploadObject`, or nil when no such file is stored:
    /// ``downloadObjectIfExists(_:fileName:context:)-7kv2b``, read on the I/O pool, decoded on the
    /// calling task.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The value, or nil.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadObjectIfExists<T: Decodable>(_ type: T.Type, fileName: String, context: String) async throws -> T? {
        let target = try target(fileName, context, .downloadObject)
        let engine = self.engine
        guard let content = try await offload({ try self.runObject(.downloadObject, target) { try engine.downloadIfExists(target) } })
        else { return nil }
        return try runObject(.downloadObject, target) { try decodeObjectFile(type, content) }
    }

    /// Stores an array of numbers as one contiguous block:
    /// ``uploadArray(_:fileName:context:)-6m8go`` on the I/O pool.
    /// - Parameters:
    ///   - array: The elements.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadArray<Element: BitwiseCopyable & Sendable>(_ array: [Element], fileName: String, context: String) async throws
        -> String
    {
        try await offload { try self.uploadArray(array, fileName: fileName, context: context) }
    }

    /// The array stored with `uploadArray`: ``downloadArray(_:fileName:context:)-rb00`` on the I/O
    /// pool.
    /// - Parameters:
    ///   - type: The element type; it must be the stored one.
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The elements.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadArray<Element: BitwiseCopyable & Sendable>(
        _ type: Element.Type, fileName: String, context: String
    ) async throws -> [Element] {
        try await offload { try self.downloadArray(Element.self, fileName: fileName, context: context) }
    }

    // MARK: Get-or-compute

    /// The object stored as `fileName`, computed and stored first if missing: single-flight
    /// across tasks, threads and processes, with an async `compute`.
    ///
    /// The sequence of ``cachedObject(_:fileName:context:compute:)-4js4f``: a hit is one lookup
    /// and one read; on a miss one caller takes the entry's lock, looks again, computes, stores and
    /// returns, while the others wait (sleeping, not holding a thread) and return what it
    /// stored. A damaged or retyped entry is recomputed. Asking for the entry being computed
    /// from inside its own `compute` waits forever (an async caller has no thread to tell it by).
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The entry's name (after `fileName(for:)`).
    ///   - context: The entry's context.
    ///   - compute: Computes the value on a miss, under the entry's lock; may await.
    /// - Returns: The stored value, or the value `compute` returned and that was stored.
    /// - Throws: What `compute` throws, unchanged; otherwise `LocalStorageError` with operation
    ///   `.cache`; `CancellationError` when the task is cancelled.
    public func cachedObject<T: Codable>(
        _ type: T.Type, fileName: String, context: String, compute: () async throws -> T
    ) async throws -> T {
        let target = try target(fileName, context, .cache)
        let lookup = { () async throws -> T? in
            do {
                return try await self.asCacheOperation { try await self.downloadObjectIfExists(type, fileName: fileName, context: context) }
            } catch let error as LocalStorageError where error.code == .corrupted || error.code == .decodingFailed {
                return nil
            }
        }
        if let hit = try await lookup() { return hit }
        let lock = try await acquireWithoutBlocking(.cacheEntry, target, timeout: nil, operation: .cache)
        defer { lock.unlock() }
        if let hit = try await lookup() { return hit }
        let value = try await compute()
        _ = try await asCacheOperation { try await self.uploadObject(value, fileName: fileName, context: context) }
        return value
    }

    /// The bytes stored as `fileName`, computed and stored first if missing: single-flight across
    /// tasks, threads and processes, with an async `compute` (see
    /// ``cachedObject(_:fileName:context:compute:)-4js4f`` for the sequence).
    /// - Parameters:
    ///   - fileName: The entry's name (after `fileName(for:)`).
    ///   - context: The entry's context.
    ///   - compute: Computes the bytes on a miss, under the entry's lock; may await.
    /// - Returns: The stored bytes, or the bytes `compute` returned and that were stored.
    /// - Throws: What `compute` throws, unchanged; otherwise `LocalStorageError` with operation
    ///   `.cache`; `CancellationError` when the task is cancelled.
    public func cachedData(fileName: String, context: String, compute: () async throws -> Data) async throws -> Data {
        let target = try target(fileName, context, .cache)
        let lookup = { () async throws -> Data? in
            try await self.asCacheOperation { try await self.downloadFileIfExists(fileName, context: context) }
        }
        if let hit = try await lookup() { return hit }
        let lock = try await acquireWithoutBlocking(.cacheEntry, target, timeout: nil, operation: .cache)
        defer { lock.unlock() }
        if let hit = try await lookup() { return hit }
        let data = try await compute()
        _ = try await asCacheOperation { try await self.uploadFile(file: data, fileName: fileName, context: context) }
        return data
    }

    /// Runs an async storage call on behalf of a cache call: its errors are reported as `.cache`'s.
    private func asCacheOperation<R>(_ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch var error as LocalStorageError {
            error.operation = .cache
            throw error
        }
    }

    // MARK: Locks

    /// Runs `body` holding the lock `lockName` of `context`, across tasks, threads and
    /// processes; `body` may await.
    ///
    /// The same lock as the synchronous ``withLock(_:context:timeout:_:)-7otez``. The wait never
    /// holds a thread: the lock is tried without blocking, with sleeps of 1-10 ms between tries.
    /// Async locks are not recursive, and a task waiting for a lock it holds itself is not
    /// detected: give it a `timeout`.
    /// - Parameters:
    ///   - lockName: The lock's name, validated like a file name.
    ///   - context: The context it belongs to; it need not exist and is not created.
    ///   - timeout: The longest to wait; nil waits until the lock is granted.
    ///   - body: Runs while the lock is held; may await.
    /// - Returns: What `body` returns.
    /// - Throws: As the synchronous call (`.timedOut` when `timeout` ran out); what `body`
    ///   throws; `CancellationError` when the task is cancelled while waiting.
    public func withLock<R>(
        _ lockName: String, context: String, timeout: Duration? = nil, _ body: () async throws -> R
    ) async throws -> R {
        let target = try lockTarget(lockName, context)
        if let timeout, timeout < .zero {
            throw LocalStorageError(code: .invalidArgument, operation: .lock, message: "the lock timeout \(timeout) is negative")
        }
        let lock = try await acquireWithoutBlocking(.named, target, timeout: timeout, operation: .lock)
        defer { lock.unlock() }
        return try await body()
    }

    /// Takes a lock by trying it without blocking (a few syscalls, run inline) and sleeping
    /// 1-10 ms between tries.
    private func acquireWithoutBlocking(
        _ domain: LockDomain, _ target: Target, timeout: Duration?, operation: LocalStorageError.Operation
    ) async throws -> StorageLock {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        var pause = Duration.milliseconds(1)
        while true {
            if let lock = try acquire(domain, target, wait: .never, scoped: false, operation: operation) { return StorageLock(lock) }
            var sleep = pause
            if let deadline {
                let left = deadline - clock.now
                if left <= .zero {
                    throw LocalStorageError(
                        code: .timedOut, operation: operation,
                        message:
                            "lock '\(target.name)' in context '\(target.context)' is held elsewhere and was not released within \(timeout ?? .zero)"
                    )
                }
                sleep = min(sleep, left)
            }
            try await Task.sleep(for: sleep)
            pause = min(pause * 2, .milliseconds(10))
        }
    }

    // MARK: Synchronous closures from async code

    // In async code, a call with a synchronous closure would otherwise pick the synchronous
    // call, whose lock wait blocks a thread of the cooperative pool. These overloads win there
    // (Swift prefers the async one of two equal candidates in async code) and forward.

    /// `cachedObject` with a synchronous `compute`, from async code: the async sequence (reads
    /// and writes on the I/O pool, waits without holding a thread); `compute` runs on the
    /// calling task.
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The entry's name (after ``fileName(for:)``).
    ///   - context: The entry's context.
    ///   - compute: Computes the value on a miss, under the entry's lock.
    /// - Returns: The stored or computed value.
    /// - Throws: As ``cachedObject(_:fileName:context:compute:)-5ephr``.
    public func cachedObject<T: Codable>(
        _ type: T.Type, fileName: String, context: String, compute: () throws -> T
    ) async throws -> T {
        try await cachedObject(type, fileName: fileName, context: context) { () async throws -> T in try compute() }
    }

    /// `cachedData` with a synchronous `compute`, from async code (see
    /// ``cachedObject(_:fileName:context:compute:)-90yqx``).
    /// - Parameters:
    ///   - fileName: The entry's name (after ``fileName(for:)``).
    ///   - context: The entry's context.
    ///   - compute: Computes the bytes on a miss, under the entry's lock.
    /// - Returns: The stored or computed bytes.
    /// - Throws: As ``cachedData(fileName:context:compute:)-1u7qy``.
    public func cachedData(fileName: String, context: String, compute: () throws -> Data) async throws -> Data {
        try await cachedData(fileName: fileName, context: context) { () async throws -> Data in try compute() }
    }

    /// `withLock` with a synchronous `body`, from async code: the wait does not hold a thread.
    /// - Parameters:
    ///   - lockName: The lock's name, validated like a file name.
    ///   - context: The context it belongs to; it need not exist and is not created.
    ///   - timeout: The longest to wait; nil waits until the lock is granted.
    ///   - body: Runs while the lock is held.
    /// - Returns: What `body` returns.
    /// - Throws: As ``withLock(_:context:timeout:_:)-5x4v5``.
    public func withLock<R>(_ lockName: String, context: String, timeout: Duration? = nil, _ body: () throws -> R) async throws -> R {
        try await withLock(lockName, context: context, timeout: timeout) { () async throws -> R in try body() }
    }
}
