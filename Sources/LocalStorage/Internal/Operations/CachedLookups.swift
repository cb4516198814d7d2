internal import CLocalStorage
import Foundation
import Glibc

// Answers the async API may give on the calling task, without the hop to the I/O pool, because
// the kernel gives them without waiting: the lookup with RESOLVE_CACHED (EAGAIN instead of any
// I/O or revalidation), the read with RWF_NOWAIT (EAGAIN instead of waiting for a page not in
// the cache). `nil` means "ask the pool": the call is then made there, in full, and anything
// this path could not settle (an error other than a missing name, a cold cache, a kernel
// without these flags) is settled there with the synchronous call's own errors.

/// The largest file read inline: a read this size costs about what the hop does.
let inlineReadLimit = 64 * 1024

extension Engine {
    /// Whether a regular file of that name is stored, if the kernel can say without waiting.
    func existsIfCached(_ target: Target) -> Bool? {
        guard let fd = cachedOpen(target, flags: CLocalStorage_O_PATH | O_NOFOLLOW) else { return nil }
        switch fd {
        case .missing: return false
        case .opened(let fd):
            defer { closeDescriptor(fd) }
            guard let status = try? fileStatus(fd) else { return nil }
            return status.isRegularFile
        }
    }

    /// The content of a small stored file, if it can be read without waiting: `.some(nil)` for
    /// a missing name (only when `missingIsAnswer`), nil to ask the pool. A storage with limits
    /// marks every read (a metadata write), so it always asks the pool.
    func downloadIfCached(_ target: Target, missingIsAnswer: Bool) -> Data?? {
        guard limitKeeper == nil else { return nil }
        guard let opened = cachedOpen(target, flags: O_RDONLY | O_NONBLOCK | O_NOFOLLOW) else { return nil }
        guard case .opened(let fd) = opened else { return missingIsAnswer ? .some(nil) : nil }
        defer { closeDescriptor(fd) }
        guard let status = try? fileStatus(fd), status.isRegularFile else { return nil }
        let size = Int(status.st_size)
        if size > inlineReadLimit { return nil }
        if size == 0 { return .some(Data()) }
        guard let buffer = malloc(size) else { return nil }
        var filled = 0
        while filled < size {
            let count = system_pread_nowait(fd, buffer + filled, size - filled, off_t(filled))
            if count > 0 {
                filled += count
                continue
            }
            if count == 0 { break }
            let errno = Errno.current
            if errno == .interrupted { continue }
            if errno == .notSupported || errno == .invalidArgument || errno == .noSystemCall {
                support.noteMissing(.cachedLookups)
            }
            free(buffer)
            return nil
        }
        if filled == 0 {
            free(buffer)
            return .some(Data())
        }
        return .some(Data(bytesNoCopy: buffer, count: filled, deallocator: .free))
    }

    private enum CachedOpen {
        case opened(CInt)
        case missing
    }

    /// openat2 beneath the root with RESOLVE_CACHED; nil when the kernel would have to wait,
    /// cannot do it, or fails otherwise.
    private func cachedOpen(_ target: Target, flags: CInt) -> CachedOpen? {
        if support.isRefused(.cachedLookups) || support.isRefused(.openat2) { return nil }
        let resolve = resolveBeneath | CLocalStorage_RESOLVE_CACHED
        let flags = flags | O_CLOEXEC
        do {
            let fd = try target.withRelativePath { path, _ throws(SyscallError) in
                try retrying(.openat2) { system_openat2(rootFD, path, flags, 0, resolve) }
            }
            return .opened(fd)
        } catch {
            switch error.errno {
            case .noSuchFile, .notDirectory: return .missing
            case .invalidArgument, .noSystemCall, .notPermitted:
                // A kernel before 5.12 (unknown resolve flag), or a filter: not again.
                support.noteMissing(.cachedLookups)
                return nil
            default:
                return nil
            }
        }
    }
}
