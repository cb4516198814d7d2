import Foundation

/// What is known of one stored file without reading it.
public struct StoredFileInfo: Sendable, Equatable {
    /// The on-disk name, as `listStoredFiles` shows it.
    public var name: String
    /// The size of the stored content, in bytes.
    public var size: Int64
    /// When its content was last stored.
    public var modificationDate: Date
    /// When it was last stored or read: the later of its modification and access times. A
    /// storage with `CacheLimits` marks every read; other reads move it as the mount's atime
    /// policy does (with `relatime`, the first read after a store, then at most once a day).
    /// Eviction removes the least recently used first.
    public var lastUsedDate: Date

    /// Creates a description of a stored file.
    /// - Parameters:
    ///   - name: The on-disk name.
    ///   - size: The size in bytes.
    ///   - modificationDate: When its content was last stored.
    ///   - lastUsedDate: When it was last stored or read.
    public init(name: String, size: Int64, modificationDate: Date, lastUsedDate: Date) {
        self.name = name
        self.size = size
        self.modificationDate = modificationDate
        self.lastUsedDate = lastUsedDate
    }
}

/// How much a storage holds: user files only (temp files, locks and counters do not count).
public struct StorageUsage: Sendable, Equatable {
    /// The number of stored files.
    public var files: Int
    /// Their total size, in bytes.
    public var bytes: Int64

    /// Creates a usage figure.
    /// - Parameters:
    ///   - files: The number of stored files.
    ///   - bytes: Their total size, in bytes.
    public init(files: Int, bytes: Int64) {
        self.files = files
        self.bytes = bytes
    }
}

/// Bounds on what a storage may hold; `nil` leaves a dimension unbounded.
public struct CacheLimits: Sendable, Equatable {
    /// The most bytes of user files.
    public var maxBytes: Int64?
    /// The most user files.
    public var maxFiles: Int?
    /// The longest a file may go unused before it is removed.
    public var maxAge: Duration?

    /// Creates limits; pass only the dimensions to bound.
    /// - Parameters:
    ///   - maxBytes: The most bytes of user files, or nil.
    ///   - maxFiles: The most user files, or nil.
    ///   - maxAge: The longest a file may go unused, or nil.
    public init(maxBytes: Int64? = nil, maxFiles: Int? = nil, maxAge: Duration? = nil) {
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        self.maxAge = maxAge
    }
}

extension CacheLimits {
    /// Why these limits cannot be enforced (a negative bound), or nil.
    var problem: String? {
        if let maxBytes, maxBytes < 0 { return "maxBytes \(maxBytes) is negative" }
        if let maxFiles, maxFiles < 0 { return "maxFiles \(maxFiles) is negative" }
        if let maxAge, maxAge < .zero { return "maxAge \(maxAge) is negative" }
        return nil
    }
}

/// What a `prune` removed and what remains.
public struct PruneReport: Sendable, Equatable {
    /// Files removed.
    public var removedFiles: Int
    /// Bytes removed.
    public var removedBytes: Int64
    /// Files that remain.
    public var remainingFiles: Int
    /// Bytes that remain.
    public var remainingBytes: Int64

    /// Creates a report.
    /// - Parameters:
    ///   - removedFiles: Files removed.
    ///   - removedBytes: Bytes removed.
    ///   - remainingFiles: Files that remain.
    ///   - remainingBytes: Bytes that remain.
    public init(removedFiles: Int, removedBytes: Int64, remainingFiles: Int, remainingBytes: Int64) {
        self.removedFiles = removedFiles
        self.removedBytes = removedBytes
        self.remainingFiles = remainingFiles
        self.remainingBytes = remainingBytes
    }
}
