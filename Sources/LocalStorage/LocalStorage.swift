internal import CLocalStorage
import Foundation
import Glibc

/// A blob store in a local directory: named files in contexts (subdirectories) under a root.
///
/// Every write is atomic (readers see the old or the new content, never a mix), durable per
/// ``Durability``, and confined to the root: names are validated before any syscall, and no
/// symlink planted inside the root can lead outside it.
///
/// One instance may be shared by any number of threads, and any number of processes may use the
/// same root: readers always see a complete version of a file.
///
/// ```swift
/// let storage = try LocalStorage(storagePath: "/path/to/storage/root")
/// try storage.uploadFile(file: "Hello, World!", fileName: "greeting.txt", context: "messages")
/// let data = try storage.downloadFile("greeting.txt", context: "messages")
/// ```
///
/// Subclass and override ``fileName(for:)`` to map names to on-disk names.
///
/// ## Implementation
///
/// A write goes to a temp file in the destination directory, which is then `renameat`'d over
/// the name. Every path is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` from
/// one root descriptor.
open class LocalStorage: BaseStorage, @unchecked Sendable {
    // @unchecked: the only state is the immutable, Sendable `engine`; subclasses that add
    // mutable state must protect it themselves.
    let engine: Engine

    /// Opens (creating it like `mkdir -p` if missing) the storage rooted at `storagePath`.
    ///
    /// - Parameters:
    ///   - storagePath: The root directory; a relative path resolves against the current
    ///     directory. It is opened once and every operation goes through that descriptor.
    ///   - durability: What each upload waits for; see ``Durability``. Default
    ///     ``Durability/fullSync``.
    ///   - fileMode: Permission bits of stored files. Default: 0644 minus the process umask.
    ///     Files in progress are 0600 until complete.
    ///   - removeOrphanedTempFiles: Remove temp files that writers killed mid-upload left
    ///     behind, anywhere under the root (see ``removeOrphanedTempFiles()-sy0d``). Default true.
    ///   - limits: Bounds on what the root holds (user files only). With limits, every upload
    ///     updates a usage counter shared by every process that opens the root with limits
    ///     (`.ls-meta/usage`), and the upload that finds the root over a limit walks it and trims
    ///     it, least recently used first, to 90% of the limit: one cleaner at a time across
    ///     threads and processes; the others go on, or wait for it once the root is over 110%.
    ///     So a walk happens once per 10% of the limit written, never per upload, and the root
    ///     exceeds `maxBytes` by at most 10% plus one file per concurrent writer. Reads mark
    ///     files used (``StoredFileInfo/lastUsedDate``). With `maxAge`, a trim also runs when none
    ///     ran for a quarter of it and removes what went unused longer. The first open with
    ///     limits of a root never counted walks it once. Default nil: unbounded, no counter, no
    ///     marking.
    /// - Throws: ``LocalStorageError`` with operation ``LocalStorageError/Operation/initialize`` if
    ///   the root cannot be created or opened.
    public init(
        storagePath: String = "cache", durability: Durability = .fullSync, fileMode: UInt32? = nil,
        removeOrphanedTempFiles: Bool = true, limits: CacheLimits? = nil
    ) throws {
        if storagePath.utf8.contains(0) {
            throw LocalStorageError(code: .invalidName, operation: .initialize, message: "storage path contains a NUL byte")
        }
        if let problem = limits?.problem {
            throw LocalStorageError(code: .invalidArgument, operation: .initialize, message: problem)
        }
        do {
            engine = try Engine(
                storagePath: storagePath, durability: durability,
                fileMode: fileMode.map { mode_t($0 & 0o7777) } ?? (0o644 & ~currentUmask()), limits: limits)
        } catch {
            throw LocalStorageError(error, operation: .initialize, path: lexicallyAbsolute(storagePath))
        }
        try run(.initialize, "") { try engine.countUsageIfNeverCounted() }
        if removeOrphanedTempFiles {
            do {
                try engine.sweepAtOpen()
            } catch {
                throw LocalStorageError(error, operation: .initialize, path: engine.rootPath)
            }
        }
    }

    /// Removes the temp files of uploads whose process died (SIGKILL, power loss) anywhere
    /// under the root, and returns how many it removed. The whole tree is walked on the calling
    /// thread.
    ///
    /// Safe while other threads and processes upload: a live writer holds a lock on its temp
    /// file, and cleanup removes only files whose lock it can take at once. (An empty temp file
    /// younger than two seconds is also left alone: its writer may not have locked it yet.)
    /// Only names with the reserved `.ls-tmp-` prefix are touched; symlinks are not followed;
    /// names that are not valid UTF-8 are walked like any other. It holds two descriptors at
    /// most, whatever the tree. A lock outlives its writer's close while a child process that
    /// writer's process forked still holds a copy of the descriptor (until the child execs);
    /// such a file is collected by a later call.
    ///
    /// - Returns: The number of temp files removed.
    /// - Throws: ``LocalStorageError`` with operation ``LocalStorageError/Operation/initialize``
    ///   when the walk fails.
    @discardableResult
    public func removeOrphanedTempFiles() throws -> Int {
        do {
            return try engine.removeOrphanedTempFiles()
        } catch {
            throw LocalStorageError(error, operation: .initialize, path: engine.rootPath)
        }
    }

    /// The durability level every upload uses.
    public var durability: Durability { engine.durability }

    /// The absolute path of the storage root as the kernel resolved it (symlinks and `..`
    /// resolved), without a trailing slash.
    ///
    /// - Returns: The root's absolute path.
    public func getRootPath() -> String { engine.rootPath }

    /// Maps a caller's file name to the name stored on disk. Every operation applies it; the
    /// default returns `name` unchanged. Override it for custom naming (the seed's
    /// `_get_file_name`); the result must be a valid name.
    ///
    /// - Parameter name: The name the caller passed to an operation.
    /// - Returns: The name stored on disk. An invalid result (empty, containing `/`, starting with
    ///   the reserved `.ls-` prefix...) makes the operation throw
    ///   ``LocalStorageError/Code/invalidName``.
    open func fileName(for name: String) -> String { name }

    // MARK: Upload

    /// Stores the UTF-8 bytes of `file` as `fileName` in `context`, atomically.
    ///
    /// Missing context directories are created. The previous version, if any, is replaced in
    /// one rename: readers see the old or the new content, never a mix.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context (subdirectory path); `""` is the root.
    ///   - directStream: No effect for in-memory content; accepted for symmetry.
    /// - Returns: The on-disk name (`fileName(for: fileName)`), as ``listStoredFiles(_:)-12f3r``
    ///   shows it.
    /// - Throws: ``LocalStorageError``. If fsync of the directory fails (`.durabilityUnknown`)
    ///   the new content is already visible but may not survive a crash.
    @discardableResult
    public func uploadFile(file: String, fileName: String, context: String, directStream: Bool = false) throws -> String {
        var content = file
        return try content.withUTF8 { try uploadBytes(UnsafeRawBufferPointer($0), fileName: fileName, context: context) }
    }

    /// Stores the bytes of `file` as `fileName` in `context`, atomically.
    ///
    /// The same as the String variant,
    /// ``uploadFile(file:fileName:context:directStream:)-6wdz3``, for bytes.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context (subdirectory path); `""` is the root.
    ///   - directStream: No effect for in-memory content; accepted for symmetry.
    /// - Returns: The on-disk name.
    /// - Throws: ``LocalStorageError``; `.durabilityUnknown` when the new content is visible but
    ///   may not survive a crash.
    @discardableResult
    public func uploadFile(file: Data, fileName: String, context: String, directStream: Bool = false) throws -> String {
        try file.withUnsafeBytes { try uploadBytes($0, fileName: fileName, context: context) }
    }

    /// Stores the bytes of `file` as `fileName` in `context`, atomically.
    ///
    /// The same as the String variant,
    /// ``uploadFile(file:fileName:context:directStream:)-6wdz3``, for bytes.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context (subdirectory path); `""` is the root.
    ///   - directStream: No effect for in-memory content; accepted for symmetry.
    /// - Returns: The on-disk name.
    /// - Throws: ``LocalStorageError``; `.durabilityUnknown` when the new content is visible but
    ///   may not survive a crash.
    @discardableResult
    public func uploadFile(file: [UInt8], fileName: String, context: String, directStream: Bool = false) throws -> String {
        try file.withUnsafeBytes { try uploadBytes($0, fileName: fileName, context: context) }
    }

    /// Stores everything from `file`'s current offset to its end as `fileName` in `context`,
    /// atomically, with memory bounded whatever the size.
    ///
    /// The handle's offset ends at its end. A non-blocking handle (pipe, socket) that has
    /// nothing ready is waited on, not reported as a failure. See <doc:StreamingWithoutCopies>.
    ///
    /// - Parameters:
    ///   - file: The source: a regular file, a pipe or a socket, read from its current offset.
    ///   - fileName: The name to store it under (after ``fileName(for:)``).
    ///   - context: The context (subdirectory path); `""` is the root.
    ///   - directStream: Move the bytes kernel-side, never through the process's memory where
    ///     the kernel can, falling back quietly where it refuses. With `false`, the bytes go
    ///     through one buffer in the process.
    /// - Returns: The on-disk name.
    /// - Throws: ``LocalStorageError``; ``LocalStorageError/Code/sourceUnreadable`` if the handle
    ///   cannot be read (closed, write-only, a directory). The previous version stays intact on
    ///   any failure.
    ///
    /// ## Implementation
    ///
    /// With `directStream`: a reflink (`FICLONE`) of a whole regular file where the file system
    /// shares extents, else `copy_file_range`, else `sendfile`; `splice` from a pipe, and from a
    /// socket `splice` through an intermediate pipe. Each falls back (EXDEV, EINVAL, ENOSYS,
    /// EOPNOTSUPP) to the next and finally to a read/write loop over one 1 MiB buffer, which is
    /// what `directStream: false` uses directly. A non-blocking handle is waited on with `poll`.
    @discardableResult
    public func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool = false) throws -> String {
        try uploadStream(fromDescriptor: file.fileDescriptor, fileName: fileName, context: context, direct: directStream).name
    }

    // MARK: Read

    /// The complete content of a stored file, read with one allocation of its exact size.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes of the version stored when the file was opened.
    /// - Throws: ``LocalStorageError`` with ``LocalStorageError/Code/notFound`` if it does not
    ///   exist, ``LocalStorageError/Code/notARegularFile`` for a directory,
    ///   ``LocalStorageError/Code/unsafePath`` for a symlink.
    public func downloadFile(_ fileName: String, context: String) throws -> Data {
        let target = try target(fileName, context, .download)
        return try run(.download, target) { try engine.download(target) }
    }

    /// The complete content of a stored file, or nil when there is none: one lookup, and no
    /// error built on a miss. A name that exists but is not a regular file still throws.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes, or nil when no such file or context exists.
    /// - Throws: ``LocalStorageError`` for failures other than a missing file or context.
    public func downloadFileIfExists(_ fileName: String, context: String) throws -> Data? {
        let target = try target(fileName, context, .download)
        return try run(.download, target) { try engine.downloadIfExists(target) }
    }

    /// The contents of several stored files of one context, nil where a name is not stored (or
    /// is not a regular file), with the context resolved once for all of them.
    /// - Parameters:
    ///   - fileNames: The stored names (each after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: One entry per name, in order: its bytes, or nil.
    /// - Throws: ``LocalStorageError`` (`.invalidName` for any invalid name, before any syscall).
    public func downloadFiles(_ fileNames: [String], context: String) throws -> [Data?] {
        let names = try targets(fileNames, context, .download)
        return try run(.download, context) { try engine.download(names, context: context) }
    }

    /// A handle open for reading at offset 0 on a stored file; the caller closes it (or lets it
    /// deinit). It keeps reading the version it opened even if the file is replaced meanwhile.
    ///
    /// The name is the seed's: the Python module looks files up by a hash code.
    /// - Parameters:
    ///   - hashcode: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: A read-only handle that closes its descriptor when released.
    /// - Throws: ``LocalStorageError`` with ``LocalStorageError/Code/notFound`` if it does not
    ///   exist.
    public func getFileByHashcode(_ hashcode: String, context: String) throws -> FileHandle {
        let target = try target(hashcode, context, .open)
        return try run(.open, target) {
            FileHandle(fileDescriptor: try engine.openStored(target).fd, closeOnDealloc: true)
        }
    }

    /// Whether a regular file of that name is stored in `context`: one lookup, no directory
    /// scan. False for a missing context; a directory or symlink of that name is not a file.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: Whether the file exists.
    /// - Throws: ``LocalStorageError``: `.invalidName` before any syscall; a failure to look
    ///   (`.permissionDenied`, `.unsafePath` for a symlink on the context's path...).
    public func checkIfExists(_ fileName: String, context: String) throws -> Bool {
        let target = try target(fileName, context, .exists)
        return try run(.exists, target) { try engine.exists(target) }
    }

    /// Whether each of several names is stored as a regular file in `context`, with the
    /// context resolved once for all of them (a cache scan).
    /// - Parameters:
    ///   - fileNames: The stored names (each after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Returns: One Bool per name, in order; all false for a missing context.
    /// - Throws: ``LocalStorageError`` (`.invalidName` for any invalid name, before any syscall).
    public func checkIfExists(_ fileNames: [String], context: String) throws -> [Bool] {
        let names = try targets(fileNames, context, .exists)
        return try run(.exists, context) { try engine.exist(names, context: context) }
    }

    /// The names of the regular files stored in `context`, sorted; `[]` if the context does not
    /// exist. Subcontexts, temp files of uploads in progress, the engine's own `.ls-` names and
    /// names that are not valid UTF-8 are not listed.
    /// - Parameter context: The context; `""` is the root.
    /// - Returns: The on-disk names, sorted.
    /// - Throws: ``LocalStorageError``: `.invalidName` for an invalid context, before any syscall.
    public func listStoredFiles(_ context: String) throws -> [String] {
        try validate(context, .list)
        return try run(.list, context) { try engine.list(context) }
    }

    // MARK: Delete

    /// Removes a stored file; with ``Durability/fullSync`` the removal is durable when the call
    /// returns.
    /// - Parameters:
    ///   - fileName: The stored name (after ``fileName(for:)``).
    ///   - context: The context; `""` is the root.
    /// - Throws: ``LocalStorageError`` with ``LocalStorageError/Code/notFound`` if it does not
    ///   exist.
    ///
    /// ## Implementation
    ///
    /// `unlinkat`, then with `.fullSync` an fsync of the directory.
    public func deleteFile(_ fileName: String, context: String) throws {
        let target = try target(fileName, context, .delete)
        try run(.delete, target) { try engine.delete(target) }
    }
}
