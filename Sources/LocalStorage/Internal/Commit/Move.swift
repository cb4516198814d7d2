internal import CLocalStorage
import Glibc

extension Engine {
    /// Stores the file at `path` as `target` and gives up the source name, without ever
    /// removing a name it has not verified to be the very file it stored, and leaving the
    /// source exactly as it was (path, content, mode) when it fails.
    ///
    /// - The source is opened first (a regular file, not a symlink); its identity (device,
    ///   inode) is what every later step checks against.
    /// - Already stored under that name (the same inode): nothing moves; only the mode and
    ///   durability are applied.
    /// - One link, on the root's file system, and no one else holding a lock on it: the source
    ///   name itself is renamed to a temp name in the context's directory (so no unlink of the
    ///   source path is ever needed), checked to be the opened file, and committed like any
    ///   upload. A failure before the commit renames it back and restores its mode.
    /// - Otherwise (another file system; other hard links, which must not share the stored
    ///   inode; a lock held elsewhere, which must not be waited for): a kernel-side copy into a
    ///   temp file, committed, then `removeVerified` of the source name.
    func move(from path: String, to target: Target) throws {
        let source = try openMoveSource(path)
        defer { closeDescriptor(source.fd) }
        var directory = try openContext(target.context, create: true)
        defer { directory.close() }
        if let stored = try? fileStatus(target.name, in: directory.fd), stored.isSameFile(as: source.status) {
            try settleInPlace(source, in: directory.fd)
            return
        }
        // LOCK_NB: a lock held by anyone else is never waited for (the copy path needs none).
        if source.status.st_nlink == 1, (try? retrying(.flock, { system_flock(source.fd, LOCK_EX | LOCK_NB) })) != nil,
            try renameIn(source, from: path, into: &directory, as: target)
        {
            return
        }
        try store(target, in: &directory) { temp in
            try preallocate(&temp, size: Int(source.status.st_size))
            _ = try transfer(from: source, to: Endpoint(fd: temp.fd, regularFileOn: rootDevice), direct: true)
        }
        // The copy is committed: a source name that cannot be removed now stays behind rather
        // than failing a stored upload.
        removeVerified(path, identity: source.status)
    }

    /// The renaming move; false when the source is on another file system (copy instead).
    private func renameIn(_ source: Endpoint, from path: String, into directory: inout DirectoryHandle, as target: Target) throws -> Bool {
        let tempName = tempNames.next()
        do {
            _ = try retrying(.renameat) { system_renameat(AT_FDCWD, path, directory.fd, tempName) }
        } catch  where error.errno == .crossDevice {
            return false
        } catch {
            throw LocalStorageError(error, operation: .move, path: path, message: "cannot move the source in: \(error.errno.explanation)")
        }
        let identity = capturedIdentity(tempName, in: directory.fd)
        guard case .success(let moved) = identity, moved.isSameFile(as: source.status) else {
            // Something else was put at the source path after it was opened (or it cannot be
            // checked): give it back.
            putBack(tempName, in: directory.fd, to: AT_FDCWD, path)
            if case .failure(let error) = identity { throw error }
            throw LocalStorageError(
                code: .sourceUnreadable, operation: .move, path: path,
                message: "the source path was replaced while its file was being moved in; nothing was stored")
        }
        let originalMode = source.status.st_mode & 0o7777
        var pending = TempFile(fd: source.fd, name: tempName, ownsDescriptor: false, mode: originalMode)
        do {
            try commit(&pending, in: &directory, as: target)
        } catch let error as DurabilityUnknown {
            throw error  // stored; only its durability is in doubt
        } catch {
            if !pending.ownsDescriptor {
                // Not stored: the source goes back as it was.
                if originalMode != fileMode { _ = system_fchmod(source.fd, originalMode) }
                putBack(tempName, in: directory.fd, to: AT_FDCWD, path)
            }
            throw error
        }
        return true
    }

    /// fstatat of what a rename captured.
    private func capturedIdentity(_ name: String, in directory: CInt) -> Result<stat, SyscallError> {
        do {
            return .success(try fileStatus(name, in: directory))
        } catch {
            return .failure(error)
        }
    }

    /// A move of a stored file onto its own name: it stays; mode and durability are applied.
    private func settleInPlace(_ source: Endpoint, in directory: CInt) throws {
        if source.status.st_mode & 0o7777 != fileMode {
            _ = try retrying(.fchmod) { system_fchmod(source.fd, fileMode) }
        }
        try syncFileContent(source.fd)
        try syncDirectoryEntry(directory)
    }

    /// Renames `name` in `directory` back to `path` without replacing anything there; if that
    /// fails (something new took the path), to `path.ls-recovered-…` beside it, so the file is
    /// never left where orphan cleanup would remove it.
    private func putBack(_ name: String, in directory: CInt, to pathDirectory: CInt, _ path: String) {
        if system_renameat2(directory, name, pathDirectory, path, CLocalStorage_RENAME_NOREPLACE) == 0 { return }
        _ = system_renameat2(
            directory, name, pathDirectory, path + ".ls-recovered-" + tempNames.next().dropFirst(8), CLocalStorage_RENAME_NOREPLACE)
    }

    /// Removes the name `path` only if it still is the file `identity` describes: the name is
    /// first renamed to a temp name beside it (which captures whatever is there at that
    /// instant), checked, and then unlinked, or put back if it is something else.
    func removeVerified(_ path: String, identity: stat) {
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let parentPath = slash.map { $0 == path.utf8.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.utf8.index(after: $0)...]) } ?? path
        guard let parent = try? retrying(.openat, { system_openat(AT_FDCWD, parentPath, directoryFlags, 0) }) else { return }
        defer { closeDescriptor(parent) }
        let captured = tempNames.next()
        guard (try? retrying(.renameat, { system_renameat(parent, base, parent, captured) })) != nil else { return }
        if let status = try? fileStatus(captured, in: parent), status.isSameFile(as: identity) {
            _ = try? retrying(.unlinkat) { system_unlinkat(parent, captured, 0) }
        } else {
            putBack(captured, in: parent, to: parent, base)
        }
    }

    /// Opens the source of a move: a regular file, not a symlink.
    private func openMoveSource(_ path: String) throws -> Endpoint {
        let fd: CInt
        do {
            fd = try retrying(.openat) { system_openat(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0) }
        } catch {
            throw LocalStorageError(
                error, operation: .move, path: path, message: "cannot open the file to move: \(error.errno.explanation)")
        }
        let status: stat
        do {
            status = try fileStatus(fd)
        } catch {
            closeDescriptor(fd)
            throw LocalStorageError(
                error, operation: .move, path: path, message: "cannot inspect the file to move: \(error.errno.explanation)")
        }
        guard status.isRegularFile else {
            closeDescriptor(fd)
            throw LocalStorageError(code: .notARegularFile, operation: .move, path: path, message: "only a regular file can be moved in")
        }
        return Endpoint(fd: fd, status: status)
    }
}
