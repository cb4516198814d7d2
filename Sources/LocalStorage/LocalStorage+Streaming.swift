internal import CLocalStorage
import Foundation
import Glibc

extension LocalStorage {
    // MARK: In

    /// Stores the file at `path` under `fileName` in `context` by moving it, when the caller
    /// gives the source up: no copy when it is on the root's file system (it is hard-linked in
    /// under a temp name, checked to be the very file that was opened, renamed into place, and
    /// the source name unlinked), else a kernel-side copy into a temp file, renamed into place,
    /// and then the source is unlinked.
    ///
    /// Atomic and durable per the storage's level like any upload: the file is fsynced before it
    /// becomes visible (`.fileSync`), its directory after (`.fullSync`), and gets the storage's
    /// file mode. The source must be a regular file, not a symlink. If anything fails before the
    /// file is stored, the source stays where it was and the previous version stays intact, even
    /// if the source path is swapped for something else meanwhile (`.sourceUnreadable`). If only
    /// the final unlink of the source name fails, the upload still counts as done.
    /// - Returns: The on-disk name.
    @discardableResult
    public func uploadFile(movingFileAt path: String, fileName: String, context: String) throws -> String {
        let target = try resolve(fileName, context, .move)
        let source = try openMoveSource(path)
        defer { closeDescriptor(source.fd) }
        return try run(.move, target) {
            let directory = try engine.openContext(target.context, create: true)
            defer { directory.close() }
            do {
                if source.status.st_mode & 0o7777 != engine.fileMode {
                    _ = try retryingInterrupts(.fchmod) { system_fchmod(source.fd, engine.fileMode) }
                }
                if durability >= .fileSync {
                    _ = try retryingInterrupts(.fsync) { system_fsync(source.fd) }
                }
                try linkIntoPlace(source, from: path, in: directory.fd, as: target.name)
                // The file is stored; a source name that cannot be removed now stays behind.
                _ = try? retryingInterrupts(.unlinkat) { system_unlinkat(AT_FDCWD, path, 0) }
                try syncDirectory(directory.fd)
            } catch let error as SyscallError where error.syscall == .linkat && error.errno.meansNoHardLink {
                // Another file system, or no hard link allowed here: copy kernel-side into a
                // temp file, commit, then unlink.
                _ = try engine.atomicReplace(in: directory.fd, name: target.name) { temp in
                    try engine.preallocate(temp.fd, size: Int(source.status.st_size))
                    return try engine.transfer(
                        from: source, to: Endpoint(fd: temp.fd, regularFileOn: engine.rootDevice), direct: true)
                }
                // atomicReplace fsynced the directory already. The copy is committed: a source
                // that cannot be unlinked now stays behind rather than failing a stored upload.
                _ = try? retryingInterrupts(.unlinkat) { system_unlinkat(AT_FDCWD, path, 0) }
            }
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
    /// the previous version stays, and the error is rethrown as is. Do not keep the writer past
    /// the closure: it throws `.closed` then.
    /// - Returns: What `body` returns.
    @discardableResult
    public func withFileWriter<R>(fileName: String, context: String, _ body: (FileWriter) throws -> R) throws -> R {
        let target = try resolve(fileName, context, .upload)
        let path = engine.absolutePath(target.relativePath)
        return try run(.upload, target) {
            let directory = try engine.openContext(target.context, create: true)
            defer { directory.close() }
            return try engine.atomicReplace(in: directory.fd, name: target.name) { temp in
                let writer = FileWriter(fd: temp.fd) { LocalStorageError($0, operation: .upload, path: path) }
                defer { writer.invalidate() }
                let result = try body(writer)
                try writer.finish()
                return result
            }
        }
    }

    // MARK: Out

    /// Writes a stored file's content to `destination` at its current offset, kernel-side:
    /// `copy_file_range` to a regular file, `splice` to a pipe, `sendfile` to a socket, each
    /// falling back (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP) to the next and to a read/write loop.
    /// Memory stays bounded whatever the size.
    ///
    /// The library leaves signal dispositions alone: a process that exports to a pipe or socket
    /// whose reader may go away should ignore SIGPIPE, and then gets `.destinationUnwritable`.
    /// - Returns: The number of bytes written.
    /// - Throws: `.notFound` for a missing file, `.destinationUnwritable` if `destination`
    ///   cannot be written.
    @discardableResult
    public func downloadFile(_ fileName: String, context: String, to destination: FileHandle) throws -> Int {
        try exportStream(fileName, context: context, toDescriptor: destination.fileDescriptor).bytes
    }

    /// The content of a stored file, mapped into memory (`mmap`, read-only, private) when
    /// `mapped` is true: no copy, pages are read on first touch, and the mapping goes away with
    /// the last copy of the Data. With `false`, the same as `downloadFile(_:context:)`.
    ///
    /// Safe because stored files are replaced by rename, never rewritten in place: the mapping
    /// keeps the version it mapped. (A process that truncates a stored file behind the
    /// library's back would make reading the mapping fault.)
    public func downloadFile(_ fileName: String, context: String, mapped: Bool) throws -> Data {
        guard mapped else { return try downloadFile(fileName, context: context) }
        let target = try resolve(fileName, context, .download)
        return try run(.download, target) {
            let file = try openStored(target, .download)
            defer { closeDescriptor(file.fd) }  // the mapping outlives the descriptor
            let size = Int(file.status.st_size)
            if size == 0 { return Data() }
            var mapped = system_mmap(size, file.fd)
            while mapped == nil && Errno.current == .interrupted { mapped = system_mmap(size, file.fd) }
            guard let address = mapped else {
                throw SyscallError(syscall: .mmap, errno: Errno.current)
            }
            return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in
                _ = system_munmap(pointer, count)
            })
        }
    }

    /// Opens a stored file for reading in chunks of `chunkSize` bytes (1 MiB by default).
    /// - Throws: `.notFound` for a missing file.
    public func openReader(_ fileName: String, context: String, chunkSize: Int = 1 << 20) throws -> StoredFileReader {
        let target = try resolve(fileName, context, .download)
        return try run(.download, target) {
            let file = try openStored(target, .download)
            return StoredFileReader(
                fd: file.fd, size: Int(file.status.st_size), chunkSize: max(1, chunkSize),
                path: engine.absolutePath(target.relativePath))
        }
    }
}

// MARK: - Shared steps

extension LocalStorage {
    /// Export with the path taken, for tests and the benchmark.
    func exportStream(_ fileName: String, context: String, toDescriptor fd: CInt) throws -> (bytes: Int, path: TransferPath) {
        let target = try resolve(fileName, context, .export)
        return try run(.export, target) {
            let file = try openStored(target, .export)
            defer { closeDescriptor(file.fd) }
            let destination = try callerEndpoint(fd, failing: .destinationUnwritable, in: .export, role: "destination")
            if file.status.st_size >= preallocationThreshold {
                _ = system_fadvise(file.fd, 0, 0, CLocalStorage_POSIX_FADV_SEQUENTIAL)
            }
            do {
                return try engine.transfer(from: Endpoint(fd: file.fd, status: file.status), to: destination, direct: true)
            } catch let error as SyscallError where error.errno == .badFileDescriptor || error.errno.rawValue == EPIPE {
                throw LocalStorageError(
                    code: .destinationUnwritable, operation: .export, syscall: error.syscall.rawValue,
                    errno: error.errno.rawValue, message: "the destination cannot be written")
            }
        }
    }

    /// Hard-links the file at `path` into `directory` under a temp name, checks that it is the
    /// file `source` opened (not something swapped in at the path since), and renames it over
    /// `name`. On any failure the temp link is removed and the source is untouched.
    private func linkIntoPlace(_ source: Endpoint, from path: String, in directory: CInt, as name: String) throws {
        // Orphan cleanup leaves alone a temp file whose lock it cannot take.
        _ = try retryingInterrupts(.flock) { system_flock(source.fd, LOCK_EX) }
        var temp = makeTempName()
        var attempts = 0
        while system_linkat(AT_FDCWD, path, directory, temp, 0) != 0 {
            let errno = Errno.current
            attempts += 1
            if errno == .interrupted && attempts < 16 { continue }
            if errno == .fileExists && attempts < 16 { temp = makeTempName(); continue }
            throw SyscallError(syscall: .linkat, errno: errno)
        }
        do {
            var linked = stat()
            _ = try retryingInterrupts(.fstatat) { system_fstatat(directory, temp, &linked, AT_SYMLINK_NOFOLLOW) }
            guard linked.st_dev == source.status.st_dev && linked.st_ino == source.status.st_ino else {
                throw LocalStorageError(
                    code: .sourceUnreadable, operation: .move, path: path,
                    message: "the source path was replaced while its file was being moved in; nothing was stored")
            }
            _ = try retryingInterrupts(.renameat) { system_renameat(directory, temp, directory, name) }
        } catch {
            _ = try? retryingInterrupts(.unlinkat) { system_unlinkat(directory, temp, 0) }
            throw error
        }
    }

    /// Opens the source of a move: a regular file, not a symlink.
    private func openMoveSource(_ path: String) throws -> Endpoint {
        let describe = { (error: SyscallError) in
            LocalStorageError(error, operation: .move, path: path, message: "cannot open the file to move: \(error.errno.explanation)")
        }
        let fd: CInt
        do {
            fd = try retryingInterrupts(.openat) { system_openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0) }
        } catch {
            throw describe(error)
        }
        do {
            let source = try Endpoint(fd: fd)
            guard source.status.isRegularFile else {
                throw LocalStorageError(code: .notARegularFile, operation: .move, path: path, message: "only a regular file can be moved in")
            }
            return source
        } catch let error as SyscallError {
            closeDescriptor(fd)
            throw describe(error)
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }
}
