import Glibc

/// How often an upload recreates its context and tries again when the context is removed
/// under it (`rm -rf` racing the upload).
let contextRecreationAttempts = 8

extension Engine {
    /// Stores a new version of `target`: a temp file in the context's directory (created if
    /// missing), filled by `fill`, then committed (`commit`). Any failure before the rename
    /// removes the temp file and leaves the old version untouched.
    func store<R>(_ target: Target, fill: (inout TempFile) throws -> R) throws -> R {
        var directory = try openContext(target.context, create: true)
        defer { directory.close() }
        return try store(target, in: &directory, fill: fill)
    }

    /// `store` into a context directory the caller opened (and closes).
    func store<R>(_ target: Target, in directory: inout DirectoryHandle, fill: (inout TempFile) throws -> R) throws -> R {
        var temp = try createTempFile(in: &directory, context: target.context)
        let result: R
        do {
            result = try fill(&temp)
        } catch {
            discard(temp, in: directory.fd)
            throw error
        }
        try commit(&temp, in: &directory, as: target)
        return result
    }

    /// The one commit sequence, for uploads, moves and writers: trim what was reserved past the
    /// end, give the file its final mode, fsync it (per durability), rename it over the name
    /// while still open (so its lock is held for as long as it has a temp name), close it, fsync
    /// the directory (per durability). A failure before the rename removes the temp file (or,
    /// for a moved-in file, is undone by the move) and leaves the old version; a failure after it
    /// is `DurabilityUnknown`. If the context is removed meanwhile, it is recreated and the
    /// content carried over from the open descriptor, a bounded number of times.
    func commit(_ temp: inout TempFile, in directory: inout DirectoryHandle, as target: Target) throws {
        var accounting: (size: Int64, previous: Int64?)?
        do {
            try trimReservation(temp)
            let fd = temp.fd
            if temp.mode != fileMode {
                _ = try retrying(.fchmod) { system_fchmod(fd, fileMode) }
            }
            try syncFileContent(temp.fd)
            if limitKeeper != nil {
                accounting = (Int64(try fileStatus(fd).st_size), sizeIfRegular(target.name, in: directory.fd))
            }
            var attempts = 0
            while true {
                guard let error = renameFailure(temp.name, in: directory.fd, to: target.name) else { break }
                guard error.errno == .noSuchFile && attempts < contextRecreationAttempts else { throw error }
                attempts += 1
                try carryOver(&temp, into: &directory, context: target.context)
            }
        } catch {
            if temp.ownsDescriptor { discard(temp, in: directory.fd) }
            throw error
        }
        if temp.ownsDescriptor, let failure = closeDescriptor(temp.fd), failure.errno != .interrupted {
            // A close error (a delayed write error on some file systems) comes after the new
            // content became visible. EINTR is not one: the descriptor is released all the same.
            throw DurabilityUnknown(failure: failure)
        }
        try syncDirectoryEntry(directory.fd)
        if let accounting { accountStored(size: accounting.size, previousSize: accounting.previous) }
    }

    /// A temp file in the context's directory; if the directory was removed after it was opened,
    /// the context is recreated, a bounded number of times.
    func createTempFile(in directory: inout DirectoryHandle, context: String) throws(SyscallError) -> TempFile {
        var attempts = 0
        while true {
            do {
                return try createTempFile(in: directory.fd)
            } catch  where error.errno == .noSuchFile && attempts < contextRecreationAttempts {
                attempts += 1
                directory.close()
                directory = try openContext(context, create: true)
            }
        }
    }

    /// renameat within one directory; the error, or nil when it succeeded.
    private func renameFailure(_ name: String, in directory: CInt, to newName: String) -> SyscallError? {
        do {
            _ = try retrying(.renameat) { system_renameat(directory, name, directory, newName) }
            return nil
        } catch {
            return error
        }
    }

    /// The context was removed with the temp file in it: recreate it, copy the content (still
    /// readable through the open descriptor) into a new temp file there, and make that the file
    /// to commit.
    private func carryOver(_ temp: inout TempFile, into directory: inout DirectoryHandle, context: String) throws {
        let previous = directory
        directory = try openContext(context, create: true)
        var fresh = try createTempFile(in: directory.fd)
        do {
            try copyWhole(from: temp.fd, into: fresh.fd)
            let freshFD = fresh.fd
            if fileMode != 0o600 { _ = try retrying(.fchmod) { system_fchmod(freshFD, fileMode) } }
            try syncFileContent(fresh.fd)
        } catch {
            discard(fresh, in: directory.fd)
            previous.close()
            throw error
        }
        // The old name, if anything is left of it, goes (its content now lives in `fresh`).
        _ = try? retrying(.unlinkat) { system_unlinkat(previous.fd, temp.name, 0) }
        if temp.ownsDescriptor { closeDescriptor(temp.fd) }
        previous.close()
        fresh.mode = fileMode
        temp = fresh
    }
}
