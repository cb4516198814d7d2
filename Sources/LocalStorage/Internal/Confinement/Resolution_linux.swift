internal import CLocalStorage
import Glibc

/// Resolution never leaves the root: no symlinks anywhere on the path, no magic links, and no
/// escape even through a race, since the kernel checks every step.
let resolveBeneath =
    CLocalStorage_RESOLVE_BENEATH | CLocalStorage_RESOLVE_NO_SYMLINKS | CLocalStorage_RESOLVE_NO_MAGICLINKS

let directoryFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC

extension Engine {
    /// Opens `path` (a validated relative path: components joined by single `/`, none `.` or
    /// `..`) beneath the root with `flags`.
    func openBeneath(_ path: String, flags: CInt, mode: mode_t = 0) throws(SyscallError) -> CInt {
        try withCString(path) { cPath throws(SyscallError) in
            try openBeneath(cPath, length: path.utf8.count, flags: flags, mode: mode)
        }
    }

    /// Opens a target beneath the root with `flags`.
    func openBeneath(_ target: Target, flags: CInt, mode: mode_t = 0) throws(SyscallError) -> CInt {
        try target.withRelativePath { path, length throws(SyscallError) in
            try openBeneath(path, length: length, flags: flags, mode: mode)
        }
    }

    /// openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel allows it (a symlink
    /// anywhere on the path gives ELOOP); otherwise (no openat2: ENOSYS; a seccomp filter
    /// refusing it: EPERM), and for paths too long to hand the kernel whole (PATH_MAX), a walk
    /// of one O_NOFOLLOW openat per component, safe because `..` never passes validation. A
    /// file in the root (one component, not a directory) is that walk's one step: an openat
    /// with O_NOFOLLOW, as confined, and a symlink gives ELOOP just as atomically. Directories
    /// keep openat2, whose ELOOP for a symlink does not depend on a second look.
    func openBeneath(_ path: UnsafePointer<CChar>, length: Int, flags: CInt, mode: mode_t = 0) throws(SyscallError) -> CInt {
        let flags = flags | O_CLOEXEC
        if flags & O_DIRECTORY == 0 && memchr(path, Int32(UInt8(ascii: "/")), length) == nil {
            return try retrying(.openat) { system_openat(rootFD, path, flags | O_NOFOLLOW, mode) }
        }
        if !support.isRefused(.openat2) && length < Int(PATH_MAX) {
            var races = 0
            while true {
                do {
                    return try retrying(.openat2) { system_openat2(rootFD, path, flags, mode, resolveBeneath) }
                } catch  where error.errno == .tryAgain && races < 64 {
                    // A concurrent rename raced the lookup; the kernel asks for a retry.
                    races += 1
                } catch  where error.errno == .noSystemCall || error.errno == .notPermitted {
                    support.noteRefusal(.openat2, errno: error.errno)
                    break
                }
            }
        }
        return try walkOpen(path, length: length, flags: flags, mode: mode)
    }

    /// The fallback walk: each component opened with O_NOFOLLOW relative to the one before.
    private func walkOpen(_ path: UnsafePointer<CChar>, length: Int, flags: CInt, mode: mode_t) throws(SyscallError) -> CInt {
        var current = DirectoryHandle(fd: rootFD, owned: false)
        defer { current.close() }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(path).assumingMemoryBound(to: UInt8.self), count: length)
        var start = 0
        while let slash = bytes[start...].firstIndex(of: UInt8(ascii: "/")) {
            let parent = current.fd
            let fd = try withNULTerminated(UnsafeBufferPointer(rebasing: bytes[start..<slash])) { component throws(SyscallError) in
                try openDirectoryComponent(parent, component)
            }
            current.close()
            current = DirectoryHandle(fd: fd, owned: true)
            start = slash + 1
        }
        let parent = current.fd
        return try withNULTerminated(UnsafeBufferPointer(rebasing: bytes[start...])) { last throws(SyscallError) in
            if flags & O_DIRECTORY != 0 { return try openDirectoryComponent(parent, last) }
            return try retrying(.openat) { system_openat(parent, last, flags | O_NOFOLLOW, mode) }
        }
    }

}

/// Opens one directory component without following a symlink. O_DIRECTORY|O_NOFOLLOW on a
/// symlink answers ENOTDIR; that case is reported as ELOOP, like openat2 does, so a planted
/// link reads as an unsafe path rather than a misplaced file.
func openDirectoryComponent(_ parent: CInt, _ name: UnsafePointer<CChar>) throws(SyscallError) -> CInt {
    do {
        return try retrying(.openat) { system_openat(parent, name, directoryFlags | O_NOFOLLOW, 0) }
    } catch  where error.errno == .notDirectory {
        if let status = try? fileStatus(name, in: parent), status.isSymlink {
            throw SyscallError(syscall: .openat, errno: .tooManySymbolicLinks)
        }
        throw error
    }
}

/// A directory descriptor for one operation: the shared root (borrowed, never closed here) or
/// one opened beneath it.
struct DirectoryHandle {
    let fd: CInt
    let owned: Bool

    func close() { if owned { closeDescriptor(fd) } }
}

/// Calls `body` with a NUL-terminated copy of `bytes` (on the stack when short).
func withNULTerminated<R>(
    _ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<CChar>) throws(SyscallError) -> R
) throws(SyscallError) -> R {
    try withTemporaryCString(capacity: bytes.count + 1) { copy throws(SyscallError) in
        if let base = bytes.baseAddress { UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: bytes.count) }
        copy[bytes.count] = 0
        return try body(copy)
    }
}

/// `String.withCString` for bodies that throw `SyscallError` (a native string is passed without
/// a copy).
@inline(__always)
func withCString<R>(_ string: String, _ body: (UnsafePointer<CChar>) throws(SyscallError) -> R) throws(SyscallError) -> R {
    let result: Result<R, SyscallError> = string.withCString { pointer in
        do throws(SyscallError) { return .success(try body(pointer)) } catch { return .failure(error) }
    }
    return try result.get()
}
