import Foundation

extension LocalStorage {
    // MARK: In

    /// Stores the file at `path` under `fileName` in `context` by moving it, when the caller
    /// gives the source up.
    ///
    /// On the root's file system no byte is copied: the source name itself is renamed into the
    /// context's directory under a temp name, checked to be the very file that was opened, and
    /// committed like any upload. A source on another file system, one with other hard links
    /// (which must not share the stored file), or one another process holds a lock on (never
    /// waited for) is copied kernel-side instead, and then its name is removed, but only after
    /// it has been checked to still be that file. A move of a stored file onto its own name
    /// leaves it stored.
    ///
    /// Atomic and durable per the storage's level like any upload: the file is fsynced before it
    /// becomes visible (`.fileSync`), its directory after (`.fullSync`), and gets the storage's
    /// file mode. The source must be a regular file, not a symlink.
    /// - Parameters:
    ///   - path: The file to move in (absolute, or relative to the current directory).
    ///   - fileName: The name to store it under (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The on-disk name.
    /// - Throws: ``LocalStorageError``. When the move fails, the source is left exactly as it was
    ///   (path, content, mode) and the previous version stays intact; a source path swapped for
    ///   something else meanwhile gives `.sourceUnreadable` and stores nothing. If only the final
    ///   removal of a copied source's name fails, the upload still counts as done and the name
    ///   stays.
    @discardableResult
    public func uploadFile(movingFileAt path: String, fileName: String, context: String) throws -> String {
        let target = try target(fileName, context, .move)
        return try run(.move, target) {
            try engine.move(from: path, to: target)
            return target.name
        }
    }

    /// Writes a file in chunks and commits it atomically when `body` returns.
    ///
    /// ```swift
    /// try storage.withFileWriter(fileName: "features.bin", context: "run-42") { writer in
    ///     for batch in batches { try writer.write(batch) }
    /// }
    /// ```
    ///
    /// The content goes to a temp file; when `body` returns it is fsynced (per durability) and
    /// renamed over `fileName`. When `body` throws, everything is discarded, no temp file is left,
    /// the previous version stays, and the error is rethrown as is. Once any write has failed the
    /// writer is failed: later writes throw, and nothing is stored even if `body` caught the
    /// error and returned normally (the first failure is thrown then). Do not keep the writer
    /// past the closure: it throws `.closed` then.
    /// - Parameters:
    ///   - fileName: The name to store it under (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; created if missing. `""` is the root.
    ///   - body: Writes the content with the ``FileWriter`` it is given.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, unchanged; otherwise ``LocalStorageError`` (the first
    ///   failed write's error, or the commit's).
    @discardableResult
    public func withFileWriter<R>(fileName: String, context: String, _ body: (FileWriter) throws -> R) throws -> R {
        let target = try target(fileName, context, .upload)
        let path = engine.absolutePath(target.relativePath)
        return try run(.upload, target) {
            try engine.store(target) { temp in
                let writer = FileWriter(fd: temp.fd) { LocalStorageError($0, operation: .upload, path: path) }
                defer { writer.invalidate() }
                let result = try body(writer)
                try writer.finish()
                return result
            }
        }
    }

    // MARK: Out

    /// Writes a stored file's content to `destination` at its current offset, kernel-side where
    /// the kernel can, with memory bounded whatever the size.
    ///
    /// A non-blocking destination that is full is waited on, not reported as a failure. See
    /// <doc:StreamingWithoutCopies>.
    ///
    /// The library leaves signal dispositions alone: a process that exports to a pipe or socket
    /// whose reader may go away should ignore SIGPIPE, and then gets `.destinationUnwritable`.
    /// - Parameters:
    ///   - fileName: The stored name (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - destination: Where to write: a regular file, a pipe or a socket, open for writing.
    /// - Returns: The number of bytes written: the size of the version that was opened.
    /// - Throws: ``LocalStorageError`` with operation ``LocalStorageError/Operation/export``:
    ///   `.notFound` for a missing file, `.destinationUnwritable` if `destination` cannot be
    ///   written; `.noSpace`, `.quotaExceeded` or `.fileTooLarge` (with no path: the stored file
    ///   is not at fault) when the destination is full.
    ///
    /// ## Implementation
    ///
    /// `copy_file_range` to a regular file, `splice` to a pipe, `sendfile` to a socket, each
    /// falling back (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP) to the next and to a read/write loop.
    /// A non-blocking destination is waited on with `poll`; an append-only one takes the
    /// read/write loop.
    @discardableResult
    public func downloadFile(_ fileName: String, context: String, to destination: FileHandle) throws -> Int {
        try exportStream(fileName, context: context, toDescriptor: destination.fileDescriptor).bytes
    }

    /// The content of a stored file, mapped into memory (read-only, private) when `mapped` is
    /// true: no copy, pages are read on first touch, and the mapping goes away with the last
    /// copy of the Data. With `false`, the same as ``downloadFile(_:context:)-3xiqc``.
    ///
    /// Safe because stored files are replaced by rename, never rewritten in place: the mapping
    /// keeps the version it mapped. (A process that truncates a stored file behind the
    /// library's back would make reading the mapping fault.)
    /// - Parameters:
    ///   - fileName: The stored name (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - mapped: Map the file instead of reading it.
    /// - Returns: The content.
    /// - Throws: ``LocalStorageError``: `.notFound` for a missing file, `.notARegularFile` for
    ///   a directory.
    ///
    /// ## Implementation
    ///
    /// `mmap(PROT_READ, MAP_PRIVATE)` of the open file, `munmap` when the Data is released.
    public func downloadFile(_ fileName: String, context: String, mapped: Bool) throws -> Data {
        guard mapped else { return try downloadFile(fileName, context: context) }
        let target = try target(fileName, context, .download)
        return try run(.download, target) { try engine.downloadMapped(target) }
    }

    /// Opens a stored file for reading in chunks of `chunkSize` bytes (1 MiB by default).
    ///
    /// The reader keeps the version it opened even if the name is replaced meanwhile.
    /// - Parameters:
    ///   - fileName: The stored name (after ``LocalStorage/fileName(for:)``).
    ///   - context: The context; `""` is the root.
    ///   - chunkSize: The size of each chunk but the last (at least 1).
    /// - Returns: A ``StoredFileReader`` over the file's current version.
    /// - Throws: ``LocalStorageError``: `.notFound` for a missing file.
    public func openReader(_ fileName: String, context: String, chunkSize: Int = 1 << 20) throws -> StoredFileReader {
        let target = try target(fileName, context, .download)
        return try run(.download, target) {
            let file = try engine.openReader(target)
            return StoredFileReader(
                fd: file.fd, size: Int(file.status.st_size), chunkSize: max(1, chunkSize),
                path: engine.absolutePath(target.relativePath))
        }
    }
}
