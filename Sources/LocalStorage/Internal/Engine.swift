internal import CLocalStorage
import Glibc
import Synchronization

/// The state one `LocalStorage` shares across threads: the root directory descriptor every
/// operation starts from, the settings, and what the kernel has said it cannot do.
final class Engine: Sendable {
    let rootFD: CInt
    /// The root as the kernel resolved it (realpath), for `getRootPath()` and messages.
    let rootPath: String
    let rootDevice: UInt64
    let durability: Durability
    /// Mode of stored files; temp files stay 0600 until their content is complete.
    let fileMode: mode_t
    let support = KernelSupport()
    let tempNames = TempNameSource()
    /// How many async calls this storage handed to the I/O pool (tests tell inline answers by it).
    let handedOff = Atomic<Int>(0)
    /// With `CacheLimits`: the limits, the shared usage counter, the cleaner's lock.
    let limitKeeper: LimitKeeper?

    init(storagePath: String, durability: Durability, fileMode: mode_t, limits: CacheLimits? = nil) throws(SyscallError) {
        let fd = try openRoot(storagePath, sync: durability == .fullSync)
        let status: stat
        let keeper: LimitKeeper?
        do {
            status = try fileStatus(fd)
            if let limits { keeper = try LimitKeeper(limits: limits, root: fd) } else { keeper = nil }
        } catch {
            closeDescriptor(fd)
            throw error
        }
        self.limitKeeper = keeper
        self.rootFD = fd
        self.rootPath = canonicalPath(of: fd) ?? lexicallyAbsolute(storagePath)
        self.rootDevice = UInt64(status.st_dev)
        self.durability = durability
        self.fileMode = fileMode
    }

    deinit { closeDescriptor(rootFD) }

    /// Absolute path of `relative` under the root, for error messages.
    func absolutePath(_ relative: String) -> String {
        if relative.isEmpty { return rootPath }
        return rootPath == "/" ? "/" + relative : rootPath + "/" + relative
    }
}

/// Kernel paths that can be unsupported, and so are remembered once refused.
enum KernelFeature: UInt32, Sendable {
    case openat2 = 1, ficlone = 2, copyFileRange = 4, sendfile = 8, splice = 16, fallocate = 32
    /// openat2's RESOLVE_CACHED with preadv2's RWF_NOWAIT: the async API's inline answers.
    case cachedLookups = 64
}

/// Remembers which kernel paths were refused, so the fallback is taken straight away next time.
/// A missing syscall (ENOSYS, or EPERM from a seccomp filter for openat2) is remembered for
/// every file; EXDEV, EINVAL and EOPNOTSUPP are answers about a pair of file systems, so they
/// are remembered for that pair (by device number) only. A refusal caused by one descriptor
/// (O_APPEND, the same file on both ends, a write-only source) is never remembered: the copy
/// engine rules those out before asking the kernel.
final class KernelSupport: Sendable {
    private let missing = Atomic<UInt32>(0)
    private let refusedPairs = Mutex<Set<Pair>>([])

    private struct Pair: Hashable {
        var feature: UInt32
        var source: UInt64
        var destination: UInt64
    }

    func isRefused(_ feature: KernelFeature, source: UInt64 = 0, destination: UInt64 = 0) -> Bool {
        if missing.load(ordering: .relaxed) & feature.rawValue != 0 { return true }
        if feature == .openat2 { return false }
        let pair = Pair(feature: feature.rawValue, source: source, destination: destination)
        return refusedPairs.withLock { $0.contains(pair) }
    }

    /// Remembers that a feature is missing for every file.
    func noteMissing(_ feature: KernelFeature) {
        missing.bitwiseOr(feature.rawValue, ordering: .relaxed)
    }

    func noteRefusal(_ feature: KernelFeature, errno: Errno, source: UInt64 = 0, destination: UInt64 = 0) {
        if errno == .noSystemCall || feature == .openat2 {
            missing.bitwiseOr(feature.rawValue, ordering: .relaxed)
        } else {
            let pair = Pair(feature: feature.rawValue, source: source, destination: destination)
            _ = refusedPairs.withLock { $0.insert(pair) }
        }
    }
}
