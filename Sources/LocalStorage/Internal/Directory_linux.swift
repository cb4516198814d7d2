internal import CLocalStorage
import Glibc

/// A directory descriptor for one operation: the shared root (borrowed, never closed here) or
/// one opened beneath it.
struct DirectoryHandle {
    let fd: CInt
    let owned: Bool

    func close() { if owned { closeDescriptor(fd) } }
}

/// Resolution never leaves the root: no symlinks anywhere on the path, no magic links, and no
/// escape even through a race, since the kernel checks every step.
private let resolveBeneath =
    CLocalStorage_RESOLVE_BENEATH | CLocalStorage_RESOLVE_NO_SYMLINKS | CLocalStorage_RESOLVE_NO_MAGICLINKS

private let directoryFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC

extension Engine {
    /// Opens `components` (a validated relative path) beneath the root with `flags`.
    /// openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it (a symlink
    /// anywhere on the path gives ELOOP); otherwise, and for paths too long to hand the kernel
    /// whole (PATH_MAX), a walk of one O_NOFOLLOW openat per component, safe because `..` never
    /// passes validation.
    func openBeneath(_ components: [Substring], flags: CInt, mode: mode_t = 0) throws(SyscallError) -> CInt {
        let flags = flags | O_CLOEXEC
        let path = components.count == 1 ? String(components[0]) : components.joined(separator: "/")
        if !support.isRefused(.openat2) && path.utf8.count < Int(PATH_MAX) {
            var busy = 0
            while true {
                let fd = system_openat2(rootFD, path, flags, mode, resolveBeneath)
                if fd >= 0 { return fd }
                let errno = Errno.current
                if errno == .interrupted { continue }
                // EAGAIN: a concurrent rename raced the lookup; the kernel asks for a retry.
                if errno == .tryAgain && busy < 64 { busy += 1; continue }
                if errno == .noSystemCall {
                    support.noteRefusal(.openat2, errno: errno)
                    break
                }
                throw SyscallError(syscall: .openat2, errno: errno)
            }
        }
        return try walkOpen(components, flags: flags, mode: mode)
    }

    /// The fallback walk: each component opened with O_NOFOLLOW relative to the one before.
    private func walkOpen(_ components: [Substring], flags: CInt, mode: mode_t) throws(SyscallError) -> CInt {
        var current = DirectoryHandle(fd: rootFD, owned: false)
        defer { current.close() }
        for component in components.dropLast() {
            let fd = try openDirectoryComponent(current.fd, String(component))
            current.close()
            current = DirectoryHandle(fd: fd, owned: true)
        }
        let last = String(components[components.count - 1])
        if flags & O_DIRECTORY != 0 { return try openDirectoryComponent(current.fd, last) }
        return try retryingInterrupts(.openat) { system_openat(current.fd, last, flags | O_NOFOLLOW, mode) }
    }

    /// Opens one directory component without following a symlink. O_DIRECTORY|O_NOFOLLOW on a
    /// symlink answers ENOTDIR; that case is reported as ELOOP, like openat2 does, so a planted
    /// link reads as an unsafe path rather than a misplaced file.
    private func openDirectoryComponent(_ parent: CInt, _ name: String) throws(SyscallError) -> CInt {
        do {
            return try retryingInterrupts(.openat) { system_openat(parent, name, directoryFlags | O_NOFOLLOW, 0) }
        } catch where error.errno == .notDirectory {
            var status = stat()
            if system_fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && (status.st_mode & S_IFMT) == S_IFLNK {
                throw SyscallError(syscall: .openat, errno: .tooManySymbolicLinks)
            }
            throw error
        }
    }

    /// The directory of a context; `[]` is the root itself. With `create`, missing directories
    /// are made (and with `.fullSync` each new one's parent fsynced).
    func openContext(_ components: [Substring], create: Bool) throws(SyscallError) -> DirectoryHandle {
        if components.isEmpty { return DirectoryHandle(fd: rootFD, owned: false) }
        do {
            return DirectoryHandle(fd: try openBeneath(components, flags: directoryFlags), owned: true)
        } catch where create && error.errno == .noSuchFile {
            return try createContext(components)
        }
    }

    /// A fresh descriptor for a context's directory, even for the root: directory reading moves
    /// the file offset, which must not be shared between threads.
    func openContextForReading(_ components: [Substring]) throws(SyscallError) -> CInt {
        if components.isEmpty {
            return try retryingInterrupts(.openat) { system_openat(rootFD, ".", directoryFlags, 0) }
        }
        return try openBeneath(components, flags: directoryFlags)
    }

    /// Walks the context, making each missing directory. mkdirat of one component never follows
    /// a symlink, and each step is opened with O_NOFOLLOW, so a planted link stops the walk.
    private func createContext(_ components: [Substring]) throws(SyscallError) -> DirectoryHandle {
        var current = DirectoryHandle(fd: rootFD, owned: false)
        var success = false
        defer { if !success { current.close() } }
        for component in components {
            let name = String(component)
            let created: Bool
            do {
                _ = try retryingInterrupts(.mkdirat) { system_mkdirat(current.fd, name, 0o755) }
                created = true
            } catch where error.errno == .fileExists {
                created = false
            }
            if created && durability == .fullSync {
                _ = try retryingInterrupts(.fsync) { system_fsync(current.fd) }
            }
            let fd = try openDirectoryComponent(current.fd, name)
            current.close()
            current = DirectoryHandle(fd: fd, owned: true)
        }
        success = true
        return current
    }
}
