import Glibc
import Synchronization

/// The root's running totals of user files, shared by every process that opens it with limits:
/// `.ls-meta/usage`, 16 bytes (files, bytes; little-endian Int64), updated under an exclusive
/// flock (and, within the process, a mutex: threads share one open file description, which
/// flock does not tell apart). The counter is an estimate between recounts: a process killed
/// between its rename and its update, or one that writes without limits, skews it; every trim
/// (and `prune`) walks the tree anyway and writes the exact totals back.
final class UsageCounter: Sendable {
    private let fd: CInt
    private let mutex = Mutex(())

    /// Opens (creating) the counter in the engine's metadata directory.
    init(in metadata: CInt) throws(SyscallError) {
        fd = try retrying(.openat) { system_openat(metadata, "usage", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644) }
    }

    deinit { closeDescriptor(fd) }

    /// The totals now (an unlocked read: a torn 16-byte pread cannot happen on Linux for a
    /// regular file written with one pwrite).
    func read() throws(SyscallError) -> StorageUsage {
        var raw = (Int64(0), Int64(0))
        let fd = self.fd
        let got = try withUnsafeMutableBytes(of: &raw) { buffer throws(SyscallError) in
            try preadFully(fd, buffer, at: 0)
        }
        if got < 16 { return StorageUsage(files: 0, bytes: 0) }
        return StorageUsage(files: Int(Int64(littleEndian: raw.0)), bytes: Int64(littleEndian: raw.1))
    }

    /// Whether the counter has never been written (a root that was never counted).
    func isEmpty() throws(SyscallError) -> Bool { try fileStatus(fd).st_size < 16 }

    /// Adds a change, returning the new totals.
    @discardableResult
    func add(files: Int, bytes: Int64) throws(SyscallError) -> StorageUsage {
        try update { current in
            StorageUsage(files: max(0, current.files + files), bytes: max(0, current.bytes + bytes))
        }
    }

    /// Replaces the totals (after a recount).
    func set(_ usage: StorageUsage) throws(SyscallError) {
        _ = try update { _ in usage }
    }

    private func update(_ change: (StorageUsage) -> StorageUsage) throws(SyscallError) -> StorageUsage {
        let fd = self.fd
        return try mutex.withLock { _ throws(SyscallError) -> StorageUsage in
            _ = try retrying(.flock) { system_flock(fd, LOCK_EX) }
            defer { _ = system_flock(fd, LOCK_UN) }
            let next = change(try read())
            let raw = (Int64(next.files).littleEndian, next.bytes.littleEndian)
            let written = try retrying(.pwrite) { withUnsafeBytes(of: raw) { bytes in system_pwrite(fd, bytes.baseAddress, 16, 0) } }
            // 16 bytes at offset 0 of a regular file are written whole or not at all.
            if written != 16 { throw SyscallError(syscall: .pwrite, errno: .noSpace) }
            return next
        }
    }
}

extension Engine {
    /// A root opened with limits whose counter was never written is counted once, by a walk.
    func countUsageIfNeverCounted() throws {
        guard let keeper = limitKeeper, try keeper.usage.isEmpty() else { return }
        try keeper.usage.set(try countUsage())
    }
}
