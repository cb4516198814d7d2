internal import CLocalStorage
import Glibc
import Synchronization

/// What a storage with `CacheLimits` keeps: the limits, the shared usage counter, and the lock
/// that lets one cleaner at a time trim the root.
final class LimitKeeper: Sendable {
    let limits: CacheLimits
    let usage: UsageCounter
    /// `.ls-meta/cleanup`: flocked (non-blocking) by the one process trimming; its mtime says
    /// when the last trim finished, for every process.
    private let cleanupLock: CInt
    /// The cleaner within this process: flock does not tell apart threads that share the open
    /// file description, so threads exclude each other here first.
    private let cleaner = Mutex(())
    /// When the last trim finished (CLOCK_REALTIME seconds), as this process last saw it.
    private let lastTrim: Atomic<Int>

    init(limits: CacheLimits, root: CInt) throws(SyscallError) {
        self.limits = limits
        let metadata = try openEngineDirectory(root: root)
        defer { closeDescriptor(metadata) }
        usage = try UsageCounter(in: metadata)
        let lock = try retrying(.openat) {
            system_openat(metadata, "cleanup", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        }
        let finished: Int
        do { finished = Int(try fileStatus(lock).st_mtim.tv_sec) } catch { closeDescriptor(lock); throw error }
        cleanupLock = lock
        lastTrim = Atomic(finished)
    }

    deinit { closeDescriptor(cleanupLock) }

    /// Whether `totals` exceed the limits scaled by `fraction`.
    func exceeds(_ totals: StorageUsage, fraction: Double = 1) -> Bool {
        if let maxBytes = limits.maxBytes, Double(totals.bytes) > Double(maxBytes) * fraction { return true }
        if let maxFiles = limits.maxFiles, Double(totals.files) > Double(maxFiles) * fraction { return true }
        return false
    }

    /// Whether `maxAge` is set and no trim finished for a quarter of it (at least a second), so
    /// that expired files are removed even when the root stays within its size limits.
    private func ageCheckDue() -> Bool {
        guard let maxAge = limits.maxAge else { return false }
        let interval = max(1, Int(maxAge.components.seconds / 4))
        return realtimeSeconds() - lastTrim.load(ordering: .relaxed) >= interval
    }

    /// After an upload changed the totals: trims the root when it is over its limits (to 90% of
    /// them), or when an age check is due. One cleaner at a time, across threads and processes;
    /// the others go on, unless the root is over 110% of a limit, when they wait for the cleaner
    /// (a lock only the engine takes) so that writers cannot outrun it.
    func afterChange(_ totals: StorageUsage, engine: Engine) {
        guard exceeds(totals) || ageCheckDue() else { return }
        let trimmed: Bool? = cleaner.withLockIfAvailable { _ in
            // EWOULDBLOCK: another process trims; any other failure skips this trim too.
            guard (try? retrying(.flock, { system_flock(cleanupLock, LOCK_EX | LOCK_NB) })) != nil else { return false }
            defer { _ = system_flock(cleanupLock, LOCK_UN) }
            _ = try? engine.trim(to: limits, fraction: 0.9, keeper: self)
            _ = try? retrying(.futimens) { system_futimens_now(cleanupLock) }
            lastTrim.store(realtimeSeconds(), ordering: .relaxed)
            return true
        }
        if trimmed == true || !exceeds(totals, fraction: 1.1) { return }
        // Far over a limit while another thread or process trims: wait for it to finish.
        cleaner.withLock { _ in
            if (try? retrying(.flock, { system_flock(cleanupLock, LOCK_EX) })) != nil {
                _ = system_flock(cleanupLock, LOCK_UN)
            }
        }
    }
}

/// Seconds since the epoch.
private func realtimeSeconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int(now.tv_sec)
}

extension Engine {
    /// Removes files until the root is within `limits` scaled by `fraction` (1 for `prune`, 0.9
    /// for automatic trims): every file unused for longer than `maxAge`, then the least recently
    /// used. A file is captured (renamed to a temp name) and checked before it is unlinked: one
    /// used or replaced since the walk saw it is put back. A reader that has it open reads it
    /// whole (unlink never tears); one that opens it after the capture finds it missing. With a
    /// counter, the exact totals are written back, plus whatever others added meanwhile.
    func trim(to limits: CacheLimits, fraction: Double, keeper: LimitKeeper?) throws -> PruneReport {
        let counterBefore = try keeper?.usage.read()
        var entries: [StoredEntry] = []
        try forEachStoredFile { entries.append($0) }
        entries.sort { $0.lastUsed < $1.lastUsed }
        var files = entries.count
        var bytes: Int64 = 0
        for entry in entries { bytes += entry.size }
        // fraction 1 keeps a limit as given (Int64.max as a Double would not convert back).
        let maxBytes = limits.maxBytes.map { fraction >= 1 ? $0 : Int64(Double($0) * fraction) }
        let maxFiles = limits.maxFiles.map { fraction >= 1 ? $0 : Int(Double($0) * fraction) }
        var oldestKept: Int64 = .min
        if let maxAge = limits.maxAge {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            // An age too long for nanoseconds since the epoch expires nothing.
            let age = maxAge.components
            let (whole, overflow) = age.seconds.multipliedReportingOverflow(by: 1_000_000_000)
            let (cutoff, underflow) = nanoseconds(now).subtractingReportingOverflow(whole &+ age.attoseconds / 1_000_000_000)
            if !overflow && !underflow { oldestKept = cutoff }
        }
        var removedFiles = 0
        var removedBytes: Int64 = 0
        for entry in entries {
            let expired = entry.lastUsed < oldestKept
            let over = (maxBytes.map { bytes > $0 } ?? false) || (maxFiles.map { files > $0 } ?? false)
            // Sorted by last use: once one is neither expired nor needed for space, none is.
            if !expired && !over { break }
            if removeIfUnused(entry) {
                files -= 1
                bytes -= entry.size
                removedFiles += 1
                removedBytes += entry.size
            }
        }
        if let keeper, let counterBefore {
            // Uploads that counted themselves during the walk are kept in the total.
            let counterNow = try keeper.usage.read()
            try keeper.usage.set(
                StorageUsage(
                    files: max(0, files + counterNow.files - counterBefore.files),
                    bytes: max(0, bytes + counterNow.bytes - counterBefore.bytes)))
        }
        return PruneReport(removedFiles: removedFiles, removedBytes: removedBytes, remainingFiles: files, remainingBytes: bytes)
    }

    /// Unlinks a walked file unless it was used or replaced since the walk saw it: the name is
    /// first renamed to a temp name (capturing whatever is there at that instant), checked, and
    /// then unlinked or put back (never over a newer version stored meanwhile).
    private func removeIfUnused(_ entry: StoredEntry) -> Bool {
        guard let directory = try? openSweepDirectory(entry.directory) else { return false }
        defer { closeDescriptor(directory) }
        let captured = tempNames.next()
        guard (try? retrying(.renameat, { system_renameat(directory, entry.cName, directory, captured) })) != nil else {
            return false
        }
        if let status = try? fileStatus(captured, in: directory), status.isRegularFile,
            UInt64(status.st_ino) == entry.inode, nanoseconds(status.st_atim) == nanoseconds(entry.used),
            nanoseconds(status.st_mtim) == nanoseconds(entry.modified)
        {
            if (try? retrying(.unlinkat) { system_unlinkat(directory, captured, 0) }) != nil { return true }
        }
        // Used or replaced since the walk (or the unlink failed): back under its name, unless a
        // newer version took it. If it cannot go back, it goes: nothing is left under a temp name.
        let putBack = try? retrying(.renameat2) {
            system_renameat2(directory, captured, directory, entry.cName, CLocalStorage_RENAME_NOREPLACE)
        }
        if putBack == nil { _ = try? retrying(.unlinkat) { system_unlinkat(directory, captured, 0) } }
        return false
    }

    /// Marks an open stored file used now (its atime, set explicitly: mounts with noatime or
    /// relatime would not), for a storage with limits. Best effort: a read does not fail on it.
    func markUsed(_ fd: CInt) {
        guard limitKeeper != nil else { return }
        _ = try? retrying(.futimens) { system_futimens_atime_now(fd) }
    }

    /// Accounts a stored file replacing one of `previousSize` (nil: a new name), then enforces
    /// the limits. Best effort: the upload is complete whatever happens here.
    func accountStored(size: Int64, previousSize: Int64?) {
        guard let keeper = limitKeeper else { return }
        guard let totals = try? keeper.usage.add(files: previousSize == nil ? 1 : 0, bytes: size - (previousSize ?? 0)) else { return }
        keeper.afterChange(totals, engine: self)
    }

    /// Accounts a removed file.
    func accountRemoved(size: Int64) {
        guard let keeper = limitKeeper else { return }
        _ = try? keeper.usage.add(files: -1, bytes: -size)
    }
}
