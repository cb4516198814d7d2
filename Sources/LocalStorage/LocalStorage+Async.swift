import Foundation

// The async API: the same calls, `async`, with their syscalls on the I/O pool
// (`IOThreadPool.shared`) rather than on the cooperative pool. CPU work (encoding and decoding
// objects, the caller's compute closures) stays on the calling task. Each call has the
// semantics, errors and documentation of its synchronous counterpart; what the async form adds
// is said here.
//
// Cancellation: a call whose task is cancelled before it starts throws `CancellationError`
// without touching the storage; a transfer in progress stops between chunks (8 MiB at most),
// removes its temp file, leaves the previous version intact and throws `CancellationError`.
//
// Three calls answer on the calling task when the kernel can answer without waiting:
// `checkIfExists`, `downloadFile` and `downloadFileIfExists` of a file up to 64 KiB (not on a
// storage with limits, whose reads write the access time). Their lookup uses openat2 with
// RESOLVE_CACHED, which fails with EAGAIN rather than do I/O or revalidate a cached entry, and
// their read preadv2 with RWF_NOWAIT, which fails with EAGAIN rather than wait for a page; on
// EAGAIN, on any error other than a missing name, and on kernels without these flags (before
// 5.12; remembered), the call goes to the pool and runs there in full, so its errors are the
// synchronous call's. Measured (storage-bench --workloads async, 2 cores): the hop costs 9-14 µs
// when the cores are busy and 40-56 µs on a quiet virtual machine (two thread wake-ups, an idle
// vCPU waking on an IPI), against 4-7 µs for the whole call made inline. Every other call hops.

extension LocalStorage {
    /// Runs a synchronous call on the I/O pool.
    func offload<R>(_ body: @escaping @Sendable () throws -> sending R) async throws -> sending R {
        engine.handedOff.add(1, ordering: .relaxed)
        return try await IOThreadPool.shared.run(body)
    }

    // MARK: Upload

    /// Stores `file`, the content as text (UTF-8):
    /// ``uploadFile(file:fileName:context:directStream:)-6wdz3`` on the I/O pool.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - directStream: No effect for in-memory content.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadFile(file: String, fileName: String, context: String, directStream: Bool = false) async throws -> String {
        try await offload { try self.uploadFile(file: file, fileName: fileName, context: context, directStream: directStream) }
    }

    /// Stores `file`'s bytes: ``uploadFile(file:fileName:context:directStream:)-7gere`` on the
    /// I/O pool.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - directStream: No effect for in-memory content.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadFile(file: Data, fileName: String, context: String, directStream: Bool = false) async throws -> String {
        try await offload { try self.uploadFile(file: file, fileName: fileName, context: context, directStream: directStream) }
    }

    /// Stores `file`'s bytes: ``uploadFile(file:fileName:context:directStream:)-5yyks`` on the
    /// I/O pool.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - directStream: No effect for in-memory content.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadFile(file: [UInt8], fileName: String, context: String, directStream: Bool = false) async throws -> String {
        try await offload { try self.uploadFile(file: file, fileName: fileName, context: context, directStream: directStream) }
    }

    /// Stores what `file` holds from its offset to its end (streamed, bounded memory):
    /// ``uploadFile(file:fileName:context:directStream:)-74t9p`` on the I/O pool.
    /// - Parameters:
    ///   - file: The source: a regular file, a pipe or a socket, read from its current offset.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - directStream: Move the bytes kernel-side where the kernel can.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool = false) async throws -> String {
        try await offload { try self.uploadFile(file: file, fileName: fileName, context: context, directStream: directStream) }
    }

    /// Moves the file at `path` in: ``uploadFile(movingFileAt:fileName:context:)-7cunm`` on the
    /// I/O pool.
    /// - Parameters:
    ///   - path: The file to move in (absolute, or relative to the current directory).
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The on-disk name.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled (a
    ///   cancelled cross-device copy puts the source back).
    @discardableResult
    public func uploadFile(movingFileAt path: String, fileName: String, context: String) async throws -> String {
        try await offload { try self.uploadFile(movingFileAt: path, fileName: fileName, context: context) }
    }

    /// Writes a file in chunks from async code; the content is committed when `body` returns.
    ///
    /// ```swift
    /// try await storage.withFileWriter(fileName: "features.bin", context: "run-42") { writer in
    ///     for try await batch in batches { try await writer.write(batch) }
    /// }
    /// ```
    ///
    /// As ``withFileWriter(fileName:context:_:)-(_,_,(FileWriter)->R)``: when `body` throws
    /// (cancellation included), everything is discarded, no temp file is left and the previous
    /// version stays; once a write failed nothing is stored.
    /// - Parameters:
    ///   - fileName: The name to store under (after ``fileName(for:)``).
    ///   - context: The context; created if missing.
    ///   - body: Writes the content with the ``AsyncFileWriter`` it is given; may await.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, unchanged; `LocalStorageError` for the storage's failures.
    @discardableResult
    public func withFileWriter<R>(fileName: String, context: String, _ body: (AsyncFileWriter) async throws -> R) async throws -> R {
        let target = try target(fileName, context, .upload)
        let engine = self.engine
        let path = engine.absolutePath(target.relativePath)
        let pending = try await offload { try self.run(.upload, target) { try PendingStore(engine: engine, target: target) } }
        let writer = AsyncFileWriter(pending: pending, pool: IOThreadPool.shared) { LocalStorageError($0, operation: .upload, path: path) }
        let result: R
        do {
            result = try await body(writer)
            try await writer.finish()
        } catch {
            writer.invalidate()
            await discardOffPool(pending)
            throw error
        }
        try await offload { try self.run(.upload, target) { try pending.commit() } }
        return result
    }

    /// Discards a pending upload on the I/O pool (an unlink), even from a cancelled task.
    private func discardOffPool(_ pending: PendingStore) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Task.detached { [pending] in
                _ = try? await IOThreadPool.shared.run { pending.discard() }
                continuation.resume()
            }
        }
    }

    // MARK: Download

    /// The complete content of a stored file: ``downloadFile(_:context:)-3xiqc``, read on the
    /// calling task when it is at most 64 KiB and the kernel can read it without waiting, else
    /// on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadFile(_ fileName: String, context: String) async throws -> Data {
        try Task.checkCancellation()
        let target = try target(fileName, context, .download)
        if let cached = engine.downloadIfCached(target, missingIsAnswer: false), let data = cached { return data }
        return try await offload { try self.downloadFile(fileName, context: context) }
    }

    /// The content, or nil when no such file is stored: ``downloadFileIfExists(_:context:)-166sz``,
    /// read on the calling task when it is at most 64 KiB and the kernel can answer without
    /// waiting, else on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes, or nil.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadFileIfExists(_ fileName: String, context: String) async throws -> Data? {
        try Task.checkCancellation()
        let target = try target(fileName, context, .download)
        if let cached = engine.downloadIfCached(target, missingIsAnswer: true) { return cached }
        return try await offload { try self.downloadFileIfExists(fileName, context: context) }
    }

    /// The content of each name, nil where none is stored: ``downloadFiles(_:context:)-1wn2r`` on
    /// the I/O pool.
    /// - Parameters:
    ///   - fileNames: The stored names (each after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: One entry per name, in order.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadFiles(_ fileNames: [String], context: String) async throws -> [Data?] {
        try await offload { try self.downloadFiles(fileNames, context: context) }
    }

    /// Writes a stored file's content to `destination`, kernel-side:
    /// ``downloadFile(_:context:to:)-2aykk`` on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - destination: Where to write: a regular file, a pipe or a socket, open for writing.
    /// - Returns: The number of bytes written.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled (what
    ///   was written to `destination` by then stays there).
    @discardableResult
    public func downloadFile(_ fileName: String, context: String, to destination: FileHandle) async throws -> Int {
        try await offload { try self.downloadFile(fileName, context: context, to: destination) }
    }

    /// The content mapped into memory (or read, with `mapped: false`):
    /// ``downloadFile(_:context:mapped:)-7l63a`` on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - mapped: Map the file instead of reading it.
    /// - Returns: The bytes.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func downloadFile(_ fileName: String, context: String, mapped: Bool) async throws -> Data {
        try await offload { try self.downloadFile(fileName, context: context, mapped: mapped) }
    }

    /// Opens a stored file for reading in chunks: ``openReader(_:context:chunkSize:)-66z5a`` on
    /// the I/O pool. Its `for try await` iteration reads on the I/O pool too.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - chunkSize: The size of each chunk but the last (at least 1).
    /// - Returns: The reader.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func openReader(_ fileName: String, context: String, chunkSize: Int = 1 << 20) async throws -> StoredFileReader {
        try await offload { try self.openReader(fileName, context: context, chunkSize: chunkSize) }
    }

    /// A handle open for reading on a stored file: ``getFileByHashcode(_:context:)-6p2yb`` on the
    /// I/O pool.
    /// - Parameters:
    ///   - hashcode: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The handle.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func getFileByHashcode(_ hashcode: String, context: String) async throws -> FileHandle {
        try await offload { try self.getFileByHashcode(hashcode, context: context) }
    }

    // MARK: Lookups and deletes

    /// Whether a regular file of that name is stored: ``checkIfExists(_:context:)-i0m1``, answered
    /// on the calling task when the kernel can answer without waiting, else on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: Whether it exists.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func checkIfExists(_ fileName: String, context: String) async throws -> Bool {
        try Task.checkCancellation()
        let target = try target(fileName, context, .exists)
        if let answer = engine.existsIfCached(target) { return answer }
        return try await offload { try self.checkIfExists(fileName, context: context) }
    }

    /// Whether each name is stored: ``checkIfExists(_:context:)-8orzo`` for many names, on the
    /// I/O pool.
    /// - Parameters:
    ///   - fileNames: The stored names (each after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: One answer per name, in order.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func checkIfExists(_ fileNames: [String], context: String) async throws -> [Bool] {
        try await offload { try self.checkIfExists(fileNames, context: context) }
    }

    /// The names stored in a context, sorted: ``listStoredFiles(_:)-12f3r`` on the I/O pool.
    /// - Parameter context: The context; `""` is the root.
    /// - Returns: The names.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func listStoredFiles(_ context: String) async throws -> [String] {
        try await offload { try self.listStoredFiles(context) }
    }

    /// Removes a stored file: ``deleteFile(_:context:)-7vk1d`` on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func deleteFile(_ fileName: String, context: String) async throws {
        try await offload { try self.deleteFile(fileName, context: context) }
    }

    /// Removes orphaned temp files under the whole root: ``removeOrphanedTempFiles()-sy0d`` on the
    /// I/O pool.
    /// - Returns: How many were removed.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func removeOrphanedTempFiles() async throws -> Int {
        try await offload { try self.removeOrphanedTempFiles() }
    }

    // MARK: Metadata and limits

    /// The size and dates of one stored file: ``fileInfo(_:context:)-146ws`` on the I/O pool.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: What is known of it.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func fileInfo(_ fileName: String, context: String) async throws -> StoredFileInfo {
        try await offload { try self.fileInfo(fileName, context: context) }
    }

    /// `fileInfo` of every stored file of a context: ``listStoredFileInfo(_:)-5yckb`` on the I/O
    /// pool.
    /// - Parameter context: The context; `""` is the root.
    /// - Returns: One entry per file, sorted by name (UTF-8 bytes).
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func listStoredFileInfo(_ context: String) async throws -> [StoredFileInfo] {
        try await offload { try self.listStoredFileInfo(context) }
    }

    /// The files and bytes of the whole root: ``usage()-9oh83`` on the I/O pool.
    /// - Returns: The totals.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    public func usage() async throws -> StorageUsage {
        try await offload { try self.usage() }
    }

    /// Enforces `limits` on the whole root: ``prune(_:)-7i1q0`` on the I/O pool.
    /// - Parameter limits: The bounds to enforce.
    /// - Returns: What was removed and what remains.
    /// - Throws: As the synchronous call; `CancellationError` when the task is cancelled.
    @discardableResult
    public func prune(_ limits: CacheLimits) async throws -> PruneReport {
        try await offload { try self.prune(limits) }
    }
}
