import Foundation

extension LocalStorage {
    /// The object stored as `fileName` in `context`, computed and stored first if missing:
    /// single-flight across threads and processes.
    ///
    /// A hit is one lookup and one read. On a miss, the caller takes the entry's lock, looks
    /// again, and computes, stores (atomically, like `uploadObject`) and returns the value;
    /// every other caller asking for the same entry meanwhile, in any thread of any process,
    /// waits and then returns the stored value, so `compute` runs once. If `compute` throws,
    /// its error reaches its own caller only, nothing is stored, and one waiter computes next.
    /// If the computing process dies, the kernel releases its lock and a waiter computes at
    /// once. Correctness never depends on the lock: a reader always sees a complete version.
    ///
    /// An entry that is stored but damaged (`.corrupted`) or no longer decodes as `T`
    /// (`.decodingFailed`: the type changed since it was stored) is recomputed and replaced: a
    /// cache entry is derived data, and the only version this caller can use is one computed
    /// for `T`. (Two programs sharing one key with different types therefore keep replacing
    /// each other's entry; give them different keys.)
    ///
    /// Calling `cachedObject` or `cachedData` for the same entry from inside `compute` throws
    /// `.invalidArgument` (it would wait for itself). Other entries may be asked for freely.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - fileName: The entry's name (after `fileName(for:)`), as for `uploadObject`.
    ///   - context: The entry's context.
    ///   - compute: Computes the value on a miss; runs on the calling thread, under the
    ///     entry's lock.
    /// - Returns: The stored value, or the value `compute` returned and that was stored.
    /// - Throws: What `compute` throws, unchanged. Otherwise `LocalStorageError` with operation
    ///   `.cache`: `.invalidName` before any syscall; failures to read or store the entry
    ///   (`.noSpace`, `.readOnlyFileSystem`, ...: the computed value is then not returned); the
    ///   lock's failures as for ``withLock(_:context:timeout:_:)-7otez``.
    public func cachedObject<T: Codable>(_ type: T.Type, fileName: String, context: String, compute: () throws -> T) throws -> T {
        let target = try target(fileName, context, .cache)
        return try getOrCompute(
            target,
            lookup: { try cachedObjectEntry(type, fileName: fileName, context: context) },
            compute: compute,
            store: { value in try asCacheOperation { _ = try uploadObject(value, fileName: fileName, context: context) } })
    }

    /// The bytes stored as `fileName` in `context`, computed and stored first if missing:
    /// single-flight across threads and processes.
    ///
    /// The same sequence as ``cachedObject(_:fileName:context:compute:)-4js4f`` over raw bytes: a
    /// hit is one lookup and one read (`downloadFileIfExists`); on a miss, one caller computes and
    /// stores atomically (`uploadFile`), the others wait for it and return what it stored. A
    /// throwing `compute` stores nothing and lets a waiter compute; a computing process that
    /// dies lets a waiter compute at once.
    ///
    /// - Parameters:
    ///   - fileName: The entry's name (after `fileName(for:)`).
    ///   - context: The entry's context.
    ///   - compute: Computes the bytes on a miss; runs on the calling thread, under the entry's
    ///     lock.
    /// - Returns: The stored bytes, or the bytes `compute` returned and that were stored.
    /// - Throws: What `compute` throws, unchanged. Otherwise `LocalStorageError` with operation
    ///   `.cache`, as for ``cachedObject(_:fileName:context:compute:)-4js4f``.
    public func cachedData(fileName: String, context: String, compute: () throws -> Data) throws -> Data {
        let target = try target(fileName, context, .cache)
        return try getOrCompute(
            target,
            lookup: { try asCacheOperation { try downloadFileIfExists(fileName, context: context) } },
            compute: compute,
            store: { data in try asCacheOperation { _ = try uploadFile(file: data, fileName: fileName, context: context) } })
    }
}
