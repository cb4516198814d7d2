import Glibc

/// The one file every lock of a root is a byte of, in the engine's own directory: `.ls-meta/locks`.
/// It is never written, so it stays empty; it is never removed by the engine. Neither it nor
/// `.ls-meta` is fsynced, whatever the durability: no lock outlives a crash, and a lost lock
/// file is simply created again.
let lockFilePath = metadataDirectory + "/locks"

/// An open file description of the lock file, with its identity.
struct LockFileDescription {
    let fd: CInt
    let device: UInt64
    let inode: UInt64
}

extension Engine {
    /// Opens the lock file anew: a description of its own, so that locks taken through it
    /// exclude every other description, this process's other threads included (OFD locks
    /// belong to the description). Creates `.ls-meta` and the file when missing.
    ///
    /// Resolved beneath the root like any path (a symlink at `.ls-meta` or at the file is
    /// refused with ELOOP, never followed); O_NONBLOCK so that a FIFO or device planted there
    /// cannot block the open; opened for writing, as a write lock requires (so a read-only root
    /// answers EROFS here). The file gets the stored-file mode, writable by its owner.
    func openLockFile() throws -> LockFileDescription {
        let fd = try openOrCreateLockFile()
        let status: stat
        do { status = try fileStatus(fd) } catch { closeDescriptor(fd); throw error }
        guard status.isRegularFile else {
            closeDescriptor(fd)
            throw NotARegularFile()
        }
        return LockFileDescription(fd: fd, device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// The open, and on ENOENT the `.ls-meta` directory made (if missing) and the open again.
    private func openOrCreateLockFile() throws(SyscallError) -> CInt {
        let flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK
        let mode = fileMode | 0o600
        do {
            return try openBeneath(lockFilePath, flags: flags, mode: mode)
        } catch  where error.errno == .noSuchFile {}
        if let failure = makeMetadataDirectory() { throw failure }
        return try openBeneath(lockFilePath, flags: flags, mode: mode)
    }

    /// mkdir of `.ls-meta` in the root; nil when made or already there.
    private func makeMetadataDirectory() -> SyscallError? {
        do {
            _ = try retrying(.mkdirat) { system_mkdirat(rootFD, metadataDirectory, 0o755) }
            return nil
        } catch {
            return error.errno == .fileExists ? nil : error
        }
    }
}
