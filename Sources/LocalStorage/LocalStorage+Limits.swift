import Foundation

extension LocalStorage {
    /// The size and dates of one stored file, without reading it.
    /// - Parameters:
    ///   - fileName: The stored name (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: Its name, size, when its content was stored, and when it was last stored or
    ///   read through a storage with limits.
    /// - Throws: `LocalStorageError`: `.notFound`; `.notARegularFile` for a directory.
    public func fileInfo(_ fileName: String, context: String) throws -> StoredFileInfo {
        let target = try target(fileName, context, .info)
        return try run(.info, target) { try engine.info(target) }
    }

    /// ``fileInfo(_:context:)-146ws`` of every file ``listStoredFiles(_:)-12f3r`` lists, in the
    /// same (sorted) order.
    /// - Parameter context: The context; `""` is the root. A missing context gives `[]`.
    /// - Returns: One entry per stored file.
    /// - Throws: `LocalStorageError`.
    public func listStoredFileInfo(_ context: String) throws -> [StoredFileInfo] {
        try validate(context, .info)
        return try run(.info, context) { try engine.infos(context) }
    }

    /// How many user files the whole root holds and their total size, counted exactly by a walk
    /// of the tree (temp files, locks and the engine's own files do not count). With limits, the
    /// shared counter is corrected to it.
    /// - Returns: The totals.
    /// - Throws: `LocalStorageError`.
    public func usage() throws -> StorageUsage {
        try run(.info, "") {
            let usage = try engine.countUsage()
            try engine.limitKeeper?.usage.set(usage)
            return usage
        }
    }

    /// Enforces `limits` on the whole root, exactly: removes every file unused for longer than
    /// `maxAge`, then the least recently used until the root is within `maxBytes` and
    /// `maxFiles`. A file used (read or replaced) while prune runs is kept; a reader that has it
    /// open reads it whole.
    /// - Parameter limits: The bounds to enforce.
    /// - Returns: What was removed and what remains.
    /// - Throws: `LocalStorageError`: `.invalidArgument` for a negative limit, before any syscall.
    @discardableResult
    public func prune(_ limits: CacheLimits) throws -> PruneReport {
        if let problem = limits.problem { throw LocalStorageError(code: .invalidArgument, operation: .prune, message: problem) }
        return try run(.prune, "") { try engine.trim(to: limits, fraction: 1, keeper: engine.limitKeeper) }
    }
}
