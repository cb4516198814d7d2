internal import CLocalStorage
import Glibc
import Synchronization

/// The state one `LocalStorage` shares across threads: the root directory descriptor every
/// operation starts from, the settings, and what the kernel has said it cannot do.
final class Engine: Sendable {
    let rootFD: CInt
    let rootPath: String
    let rootDevice: UInt64
    let durability: Durability
    /// Mode of stored files; temp files stay 0600 until their content is complete.
    let fileMode: mode_t
    let support = KernelSupport()

    init(rootPath: String, durability: Durability, fileMode: mode_t) throws(SyscallError) {
        try Engine.makeDirectories(rootPath, sync: durability == .fullSync)
        let fd = try retryingInterrupts(.openat) {
            system_openat(AT_FDCWD, rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        }
        let status: stat
        do { status = try fileStatus(fd) } catch { closeDescriptor(fd); throw error }
        self.rootFD = fd
        self.rootPath = rootPath
        self.rootDevice = UInt64(status.st_dev)
        self.durability = durability
        self.fileMode = fileMode
    }

    deinit { closeDescriptor(rootFD) }

    /// Absolute path of `relative` under the root, for error messages.
    func absolutePath(_ relative: String) -> String {
        relative.isEmpty ? rootPath : rootPath + "/" + relative
    }

    /// `mkdir -p` for the root itself (an absolute, normalized path); fsyncs the parent of each
    /// directory it creates when asked to.
    private static func makeDirectories(_ path: String, sync: Bool) throws(SyscallError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            let created: Bool
            do {
                _ = try retryingInterrupts(.mkdirat) { system_mkdirat(AT_FDCWD, prefix, 0o755) }
                created = true
            } catch {
                // EEXIST: already there. EACCES/EPERM/EROFS on an existing ancestor: we may not
                // create, but need not; the final open says whether the root is usable.
                let errno = error.errno.rawValue
                guard errno == EEXIST || errno == EACCES || errno == EPERM || errno == EROFS else { throw error }
                created = false
            }
            if created && sync {
                let parentFD = try retryingInterrupts(.openat) {
                    system_openat(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
                }
                defer { closeDescriptor(parentFD) }
                _ = try retryingInterrupts(.fsync) { system_fsync(parentFD) }
            }
        }
    }
}

/// Kernel paths that can be unsupported, and so are remembered once refused.
enum KernelFeature: UInt32, Sendable, CaseIterable {
    case openat2 = 1, ficlone = 2, copyFileRange = 4, sendfile = 8, splice = 16, fallocate = 32
}

/// Remembers which kernel paths were refused, so the fallback is taken straight away next time.
/// ENOSYS means the kernel lacks the call everywhere; EXDEV, EINVAL and EOPNOTSUPP are answers
/// about a pair of file systems, so they are remembered for that pair (by device number) only.
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

    func noteRefusal(_ feature: KernelFeature, errno: Errno, source: UInt64 = 0, destination: UInt64 = 0) {
        if errno == .noSystemCall || feature == .openat2 {
            missing.bitwiseOr(feature.rawValue, ordering: .relaxed)
        } else {
            let pair = Pair(feature: feature.rawValue, source: source, destination: destination)
            _ = refusedPairs.withLock { $0.insert(pair) }
        }
    }
}
