internal import CLocalStorage
import Foundation
import Glibc

/// A blob store in a local directory: named files in contexts (subdirectories) under a root.
///
/// Every write is atomic (a temp file in the destination directory, then `renameat`), durable
/// per `Durability`, and confined to the root: names are validated before any syscall and every
/// path is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` from one root
/// descriptor, so no symlink planted inside the root can lead outside it.
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
/// Subclass and override `fileName(for:)` to map names to on-disk names.
open class LocalStorage: BaseStorage, @unchecked Sendable {
    // @unchecked: the only state is the immutable, Sendable `engine`; subclasses that add
    // mutable state must protect it themselves.
    let engine: Engine

    /// Opens (creating it like `mkdir -p` if missing) the storage rooted at `storagePath`.
    ///
    /// - Parameters:
    ///   - storagePath: The root directory; a relative path resolves against the current
    ///     directory. It is opened once and every operation goes through that descriptor.
    ///   - durability: What each upload waits for; see `Durability`. Default `.fullSync`.
    ///   - fileMode: Permission bits of stored files. Default: 0644 minus the process umask.
    ///     Files in progress are 0600 until complete.
    ///   - removeOrphanedTempFiles: Remove temp files that writers killed mid-upload left
    ///     behind, anywhere under the root (see `removeOrphanedTempFiles()`). Default true.
    /// - Throws: `LocalStorageError` with operation `.initialize` if the root cannot be created
    ///   or opened.
    public init(
        storagePath: String = "cache", durability: Durability = .fullSync, fileMode: UInt32? = nil,
        removeOrphanedTempFiles: Bool = true
    ) throws {
        let root = try LocalStorage.absolutePath(storagePath)
        do {
            engine = try Engine(
                rootPath: root, durability: durability,
                fileMode: fileMode.map { mode_t($0 & 0o7777) } ?? (0o644 & ~currentUmask()))
            if removeOrphanedTempFiles { _ = try engine.removeOrphanedTempFiles() }
        } catch {
            throw LocalStorageError(error, operation: .initialize, path: root)
        }
    }

    /// Removes the temp files of uploads whose process died (SIGKILL, power loss) anywhere
    /// under the root, and returns how many it removed.
    ///
    /// Safe while other threads and processes upload: a live writer holds a lock on its temp
    /// file, and cleanup removes only files whose lock it can take at once. (An empty temp file
    /// younger than two seconds is also left alone: its writer may not have locked it yet.)
    /// Only names with the reserved `.ls-tmp-` prefix are touched; symlinks are not followed.
    /// A lock outlives its writer's close while a child process that writer's process forked
    /// still holds a copy of the descriptor (until the child execs); such a file is collected
    /// by a later call.
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

    /// The absolute path of the storage root, without a trailing slash.
    public func getRootPath() -> String { engine.rootPath }

    /// Maps a caller's file name to the name stored on disk. Every operation applies it; the
    /// default returns `name` unchanged. Override it for custom naming (the seed's
    /// `_get_file_name`); the result must be a valid name.
    open func fileName(for name: String) -> String { name }

    // MARK: Upload

    /// Stores the UTF-8 bytes of `file` as `fileName` in `context`, atomically.
    ///
    /// Missing context directories are created. The previous version, if any, is replaced in
    /// one rename: readers see the old or the new content, never a mix.
    /// - Parameter directStream: No effect for in-memory content; accepted for symmetry.
    /// - Returns: The on-disk name (`fileName(for: fileName)`), as `listStoredFiles` shows it.
    /// - Throws: `LocalStorageError`. If fsync of the directory fails (`.durabilityUnknown`)
    ///   the new content is already visible but may not survive a crash.
    @discardableResult
    public func uploadFile(file: String, fileName: String, context: String, directStream: Bool = false) throws -> String {
        var content = file
        return try content.withUTF8 { try uploadBytes(UnsafeRawBufferPointer($0), fileName: fileName, context: context) }
    }

    /// Stores the bytes of `file` as `fileName` in `context`, atomically. See
    /// `uploadFile(file:fileName:context:directStream:)` for the String variant's details.
    @discardableResult
    public func uploadFile(file: Data, fileName: String, context: String, directStream: Bool = false) throws -> String {
        try file.withUnsafeBytes { try uploadBytes($0, fileName: fileName, context: context) }
    }

    /// Stores the bytes of `file` as `fileName` in `context`, atomically.
    @discardableResult
    public func uploadFile(file: [UInt8], fileName: String, context: String, directStream: Bool = false) throws -> String {
        try file.withUnsafeBytes { try uploadBytes($0, fileName: fileName, context: context) }
    }

    /// Stores everything from `file`'s current offset to its end as `fileName` in `context`,
    /// atomically, with memory bounded whatever the size. The handle's offset ends at its end.
    ///
    /// - Parameter directStream: Move the bytes kernel-side: a reflink where the file system
    ///   shares extents, else `copy_file_range`, else `sendfile` (from a regular file), or
    ///   `splice` (from a pipe), falling back to a read/write loop over one 1 MiB buffer when the
    ///   kernel refuses. With `false`, that loop is used directly.
    /// - Throws: `LocalStorageError`; `.sourceUnreadable` if the handle cannot be read (closed,
    ///   write-only, a directory). The previous version stays intact on any failure.
    @discardableResult
    public func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool = false) throws -> String {
        try uploadStream(fromDescriptor: file.fileDescriptor, fileName: fileName, context: context, direct: directStream).name
    }

    // MARK: Read

    /// The complete content of a stored file, read with one allocation of its exact size.
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist.
    public func downloadFile(_ fileName: String, context: String) throws -> Data {
        let target = try resolve(fileName, context, .download)
        return try run(.download, target) {
            let file = try openStored(target, .download)
            defer { closeDescriptor(file.fd) }
            return try readRegularFile(file.fd, size: Int(file.status.st_size))
        }
    }

    /// A handle open for reading at offset 0 on a stored file; the caller closes it (or lets it
    /// deinit). It keeps reading the version it opened even if the file is replaced meanwhile.
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist.
    public func getFileByHashcode(_ hashcode: String, context: String) throws -> FileHandle {
        let target = try resolve(hashcode, context, .open)
        return try run(.open, target) {
            FileHandle(fileDescriptor: try openStored(target, .open).fd, closeOnDealloc: true)
        }
    }

    /// Whether a regular file of that name is stored in `context`: one lookup, no directory
    /// scan. False for a missing context; a directory or symlink of that name is not a file.
    public func checkIfExists(_ fileName: String, context: String) throws -> Bool {
        let target = try resolve(fileName, context, .exists)
        return try run(.exists, target) {
            var status = stat()
            do {
                if target.context.isEmpty {
                    _ = try retryingInterrupts(.fstatat) {
                        system_fstatat(engine.rootFD, target.name, &status, AT_SYMLINK_NOFOLLOW)
                    }
                } else {
                    // O_PATH|O_NOFOLLOW opens a trailing symlink itself (not a file) instead of failing.
                    let fd = try engine.openBeneath(target.path, flags: CLocalStorage_O_PATH | O_NOFOLLOW)
                    defer { closeDescriptor(fd) }
                    status = try fileStatus(fd)
                }
            } catch let error as SyscallError where error.errno == .noSuchFile || error.errno == .notDirectory {
                return false
            }
            return status.isRegularFile
        }
    }

    /// The names of the regular files stored in `context`, sorted; `[]` if the context does not
    /// exist. Subcontexts, temp files of uploads in progress and names that are not valid UTF-8
    /// are not listed.
    public func listStoredFiles(_ context: String) throws -> [String] {
        let components = try validContext(context, .list)
        return try run(.list, components.joined(separator: "/")) {
            let fd: CInt
            do {
                fd = try engine.openContextForReading(components)
            } catch let error as SyscallError where error.errno == .noSuchFile {
                return []
            }
            defer { closeDescriptor(fd) }
            return try listRegularFiles(fd).sorted()
        }
    }

    // MARK: Delete

    /// Removes a stored file (with `.fullSync`, fsyncing its directory after).
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist.
    public func deleteFile(_ fileName: String, context: String) throws {
        let target = try resolve(fileName, context, .delete)
        try run(.delete, target) {
            let directory = try engine.openContext(target.context, create: false)
            defer { directory.close() }
            _ = try retryingInterrupts(.unlinkat) { system_unlinkat(directory.fd, target.name, 0) }
            try syncDirectory(directory.fd)
        }
    }
}

// MARK: - Shared steps

/// A validated name in a validated context.
struct Target {
    let context: [Substring]
    let name: String

    var path: [Substring] { context + [Substring(name)] }
    var relativePath: String { context.isEmpty ? name : context.joined(separator: "/") + "/" + name }
}

/// An open stored file with its fstat.
struct StoredFile {
    let fd: CInt
    let status: stat
}

extension LocalStorage {
    /// Applies `fileName(for:)` and validates the name and context, before any syscall.
    func resolve(_ fileName: String, _ context: String, _ operation: LocalStorageError.Operation) throws -> Target {
        let name = self.fileName(for: fileName)
        if let problem = fileNameProblem(name) {
            throw LocalStorageError(invalid: problem, what: "file name", value: name, operation: operation)
        }
        return Target(context: try validContext(context, operation), name: name)
    }

    func validContext(_ context: String, _ operation: LocalStorageError.Operation) throws -> [Substring] {
        switch contextComponents(context) {
        case .success(let components): return components
        case .failure(let problem):
            throw LocalStorageError(invalid: problem, what: "context", value: context, operation: operation)
        }
    }

    /// Runs an operation's body, turning internal failures into `LocalStorageError`s.
    func run<R>(_ operation: LocalStorageError.Operation, _ target: Target, _ body: () throws -> R) throws -> R {
        try run(operation, target.relativePath, body)
    }

    func run<R>(_ operation: LocalStorageError.Operation, _ relativePath: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let failure as SyscallError {
            throw LocalStorageError(failure, operation: operation, path: engine.absolutePath(relativePath()))
        } catch let failure as DirectorySyncFailed {
            throw LocalStorageError(
                code: .durabilityUnknown, operation: operation, syscall: failure.failure.syscall.rawValue,
                errno: failure.failure.errno.rawValue, path: engine.absolutePath(relativePath()),
                message: "the change is visible, but \(failure.failure.syscall.rawValue) after it failed with "
                    + "\(failure.failure.errno): it may not survive a crash")
        }
    }

    /// fsync of a directory after a rename or unlink in it, for `.fullSync`.
    func syncDirectory(_ fd: CInt) throws {
        guard engine.durability == .fullSync else { return }
        do {
            _ = try retryingInterrupts(.fsync) { system_fsync(fd) }
        } catch {
            throw DirectorySyncFailed(failure: error)
        }
    }

    /// fstat of a descriptor the caller handed in: its failure (a closed handle, say) is the
    /// caller's, reported with `code` rather than as the engine's own error.
    func callerEndpoint(
        _ fd: CInt, failing code: LocalStorageError.Code, in operation: LocalStorageError.Operation, role: String
    ) throws -> Endpoint {
        do {
            return try Endpoint(fd: fd)
        } catch {
            throw LocalStorageError(
                code: code, operation: operation, syscall: error.syscall.rawValue, errno: error.errno.rawValue,
                message: "the \(role) handle cannot be inspected: \(error.errno.explanation)")
        }
    }

    /// Opens a stored regular file for reading. O_NONBLOCK so that a FIFO planted under the
    /// name cannot block the open; it has no effect on regular files.
    func openStored(_ target: Target, _ operation: LocalStorageError.Operation) throws -> StoredFile {
        let fd = try engine.openBeneath(target.path, flags: O_RDONLY | O_NONBLOCK | O_NOFOLLOW)
        let status: stat
        do { status = try fileStatus(fd) } catch { closeDescriptor(fd); throw error }
        guard status.isRegularFile else {
            closeDescriptor(fd)
            throw LocalStorageError(
                code: .notARegularFile, operation: operation,
                path: engine.absolutePath(target.relativePath), message: "not a regular file")
        }
        return StoredFile(fd: fd, status: status)
    }

    /// The upload path shared by the in-memory variants.
    func uploadBytes(_ bytes: UnsafeRawBufferPointer, fileName: String, context: String) throws -> String {
        let target = try resolve(fileName, context, .upload)
        return try run(.upload, target) {
            let directory = try engine.openContext(target.context, create: true)
            defer { directory.close() }
            try engine.atomicReplace(in: directory.fd, name: target.name) { temp in
                try engine.preallocate(temp.fd, size: bytes.count)
                if let base = bytes.baseAddress { try writeAll(temp.fd, base, bytes.count) }
            }
            return target.name
        }
    }

    /// The upload path for descriptors: files, pipes, sockets.
    func uploadStream(
        fromDescriptor sourceFD: CInt, fileName: String, context: String, direct: Bool
    ) throws -> (name: String, bytes: Int, path: TransferPath) {
        let target = try resolve(fileName, context, .upload)
        return try run(.upload, target) {
            let source = try callerEndpoint(sourceFD, failing: .sourceUnreadable, in: .upload, role: "source")
            guard !source.status.isDirectory else {
                throw LocalStorageError(
                    code: .sourceUnreadable, operation: .upload, path: nil, message: "the source handle is a directory")
            }
            let directory = try engine.openContext(target.context, create: true)
            defer { directory.close() }
            let outcome = try engine.atomicReplace(in: directory.fd, name: target.name) { temp in
                try ingest(from: source, into: temp, direct: direct)
            }
            return (target.name, outcome.bytes, outcome.path)
        }
    }

    /// Fills a temp file from `source`: a reflink of a whole file where possible, else the copy
    /// engine, with the known remaining size preallocated.
    private func ingest(from source: Endpoint, into temp: TempFile, direct: Bool) throws -> (bytes: Int, path: TransferPath) {
        let destination = Endpoint(fd: temp.fd, regularFileOn: engine.rootDevice)
        if source.status.isRegularFile {
            let offset = try retryingInterrupts(.lseek) { system_lseek(source.fd, 0, SEEK_CUR) }
            let remaining = max(0, Int(source.status.st_size) - Int(offset))
            if try direct && offset == 0 && remaining > 0 && engine.reflink(from: source, to: destination) {
                _ = try retryingInterrupts(.lseek) { system_lseek(source.fd, 0, SEEK_END) }
                return (remaining, .reflink)
            }
            try engine.preallocate(temp.fd, size: remaining)
        }
        return try engine.transfer(from: source, to: destination, direct: direct)
    }

    /// The regular files in an open directory (DT_UNKNOWN falls back to fstatat), minus temp
    /// files and names that are not valid UTF-8.
    private func listRegularFiles(_ fd: CInt) throws(SyscallError) -> [String] {
        var names: [String] = []
        try engine.forEachEntry(in: fd) { name, type in
            var regular = type == UInt8(DT_REG)
            if type == UInt8(DT_UNKNOWN) {
                var status = stat()
                regular = system_fstatat(fd, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.isRegularFile
            }
            if regular && !name.hasPrefix(reservedTempPrefix) { names.append(name) }
        }
        return names
    }

    /// The absolute, lexically normalized form of a root path.
    static func absolutePath(_ path: String) throws -> String {
        if path.utf8.contains(0) {
            throw LocalStorageError(code: .invalidName, operation: .initialize, message: "storage path contains a NUL byte")
        }
        var full = path
        if !path.hasPrefix("/") {
            guard let cwd = getcwd(nil, 0) else {
                throw LocalStorageError(
                    code: .systemError, operation: .initialize, syscall: "getcwd", errno: Glibc.errno,
                    message: "cannot resolve the relative storage path '\(path)'")
            }
            full = String(cString: cwd) + "/" + path
            free(cwd)
        }
        var parts: [Substring] = []
        for component in full.split(separator: "/") where component != "." {
            if component == ".." { _ = parts.popLast() } else { parts.append(component) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

extension Endpoint {
    /// An endpoint for a temp file the engine just created: no fstat needed.
    init(fd: CInt, regularFileOn device: UInt64) {
        var status = stat()
        status.st_mode = S_IFREG
        status.st_dev = dev_t(device)
        self.init(fd: fd, status: status)
    }
}
