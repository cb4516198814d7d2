import Foundation
import Glibc

/// A temp file that is empty and this young may belong to a writer between its open and its
/// flock; cleanup leaves it for the next time.
let orphanGraceSeconds = 2

/// How many directories the sweep at open visits on the caller's thread before it hands the
/// rest of a large tree to a background thread.
let openSweepBudget = 256

/// A background sweep of a root runs at most this often (across processes).
let backgroundSweepInterval: Int = 60

/// The engine's own directory under the root (reserved prefix: never a context).
let metadataDirectory = ".ls-meta"

extension Engine {
    /// Removes temp files left by writers that died, in every directory under the root, and
    /// returns how many it removed.
    ///
    /// A live writer holds an exclusive flock on its temp file from (just after) creation until
    /// the file has its final name, and the kernel drops the lock when the writer dies. So a
    /// temp file whose lock can be taken without waiting belongs to nobody, unless it is empty
    /// and younger than `orphanGraceSeconds` (a writer could be between open and flock).
    /// Symlinks are never followed; only regular files with the reserved prefix are touched.
    /// Directories are walked one at a time by their path beneath the root, so the sweep holds
    /// two descriptors at most whatever the tree; names are handled as bytes.
    func removeOrphanedTempFiles() throws(SyscallError) -> Int {
        var sweep = OrphanSweep()
        _ = try sweep.run(self, budget: nil)
        return sweep.removed
    }

    /// The sweep at open: the first `openSweepBudget` directories on the caller's thread (all
    /// of a small root), the rest of a larger tree on a background thread, which runs for one
    /// root in one process at a time and at most once a minute.
    func sweepAtOpen() throws(SyscallError) {
        var sweep = OrphanSweep()
        if try !sweep.run(self, budget: openSweepBudget) { startBackgroundSweep() }
    }

    private func startBackgroundSweep() {
        guard let lock = try? takeSweepLock() else { return }
        Thread.detachNewThread { [self] in
            if (try? removeOrphanedTempFiles()) != nil {
                // Marks the lock file (size 1) with when the last full sweep finished.
                _ = system_ftruncate(lock, 1)
                _ = system_futimens_now(lock)
            }
            closeDescriptor(lock)  // releases the lock
        }
    }

    /// The lock file that lets one background sweep run per root, or nil when another is
    /// running or one finished less than `backgroundSweepInterval` seconds ago.
    private func takeSweepLock() throws(SyscallError) -> CInt? {
        let directory = try openMetadataDirectory()
        defer { closeDescriptor(directory) }
        let lock = try retrying(.openat) { system_openat(directory, "sweep", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644) }
        do {
            _ = try retrying(.flock) { system_flock(lock, LOCK_EX | LOCK_NB) }
            let status = try fileStatus(lock)
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            // Size 0: no sweep ever finished.
            if status.st_size == 0 || now.tv_sec - status.st_mtim.tv_sec >= backgroundSweepInterval { return lock }
        } catch {}
        closeDescriptor(lock)
        return nil
    }
}

extension Engine {
    /// The engine's own directory under the root (created if missing), opened without following
    /// a symlink planted there.
    func openMetadataDirectory() throws(SyscallError) -> CInt { try openEngineDirectory(root: rootFD) }
}

/// `Engine.openMetadataDirectory` for code that runs before the engine exists.
func openEngineDirectory(root: CInt) throws(SyscallError) -> CInt {
    do {
        _ = try retrying(.mkdirat) { system_mkdirat(root, metadataDirectory, 0o755) }
    } catch  where error.errno == .fileExists {}
    return try openDirectoryComponent(root, metadataDirectory)
}

/// One walk of the tree: a stack of directory paths beneath the root (bytes, `/`-separated).
struct OrphanSweep {
    var removed = 0
    private var pending: [[UInt8]] = [[]]

    /// Sweeps until done (true) or until `budget` directories were visited (false).
    mutating func run(_ engine: Engine, budget: Int?) throws(SyscallError) -> Bool {
        var visited = 0
        while !pending.isEmpty {
            if let budget, visited >= budget { return false }
            visited += 1
            let path = pending.removeLast()
            let directory: CInt
            do {
                directory = try engine.openSweepDirectory(path)
            } catch {
                // The root must open; a subdirectory removed, replaced or unreadable meanwhile
                // is skipped.
                if path.isEmpty { throw error }
                continue
            }
            defer { closeDescriptor(directory) }
            do {
                try forEachEntry(in: directory) { entry throws(SyscallError) in
                    if entry.isDotOrDotDot { return }
                    if entry.hasPrefix(".ls-tmp-") {
                        if entry.type == UInt8(DT_REG) || entry.type == UInt8(DT_UNKNOWN),
                            engine.removeIfOrphaned(entry.name, in: directory)
                        {
                            removed += 1
                        }
                        return
                    }
                    if path.isEmpty && entry.length == metadataDirectory.utf8.count && entry.hasPrefix(".ls-meta") { return }
                    if entry.resolvedType(in: directory) == UInt8(DT_DIR) {
                        var child = path
                        if !child.isEmpty { child.append(UInt8(ascii: "/")) }
                        child.append(contentsOf: entry.bytes)
                        pending.append(child)
                    }
                }
            } catch {
                if path.isEmpty { throw error }
            }
        }
        return true
    }
}

extension Engine {
    /// Opens a directory of the sweep by its path beneath the root (the root itself for `[]`).
    func openSweepDirectory(_ path: [UInt8]) throws(SyscallError) -> CInt {
        if path.isEmpty { return try retrying(.openat) { system_openat(rootFD, ".", directoryFlags, 0) } }
        var terminated = path.map { CChar(bitPattern: $0) }
        terminated.append(0)
        let opened: Result<CInt, SyscallError> = terminated.withUnsafeBufferPointer { chars in
            guard let base = chars.baseAddress else { return .failure(SyscallError(syscall: .openat2, errno: .invalidArgument)) }
            do throws(SyscallError) {
                return .success(try openBeneath(base, length: path.count, flags: directoryFlags))
            } catch {
                return .failure(error)
            }
        }
        return try opened.get()
    }

    /// Removes a temp file if no live writer holds its lock.
    func removeIfOrphaned(_ name: UnsafePointer<CChar>, in directory: CInt) -> Bool {
        guard let fd = try? retrying(.openat, { system_openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0) }) else {
            return false
        }
        defer { closeDescriptor(fd) }
        // EWOULDBLOCK: a live writer holds it.
        guard (try? retrying(.flock, { system_flock(fd, LOCK_EX | LOCK_NB) })) != nil,
            let status = try? fileStatus(fd), status.isRegularFile
        else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if status.st_size == 0 && now.tv_sec - status.st_ctim.tv_sec < orphanGraceSeconds { return false }
        return (try? retrying(.unlinkat, { system_unlinkat(directory, name, 0) })) != nil
    }
}
