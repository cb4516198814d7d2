internal import CLocalStorage
import Glibc

/// The syscalls the engine makes, named as in their man pages. Errors carry one of these, and
/// the test-only fault injector (`Mocking.swift`) targets them by name.
enum Syscall: String, Sendable, CaseIterable {
    case openat, openat2, close, read, pread, write, pwrite, lseek
    case copyFileRange = "copy_file_range"
    case sendfile, splice, ficlone, fallocate, ftruncate, fadvise, pipe2, fcntl, flock, poll
    case fsync, renameat, renameat2, unlinkat, mkdirat, fstatat, fstat, fchmod, futimens
    case getdents64, mmap
    /// preadv2 with RWF_NOWAIT (the async API's inline reads).
    case preadv2
    /// fcntl with an open file description lock command (one case each, so faults can target
    /// the waiting call and the non-blocking one separately).
    case ofdSetLock = "fcntl(F_OFD_SETLK)"
    case ofdSetLockWait = "fcntl(F_OFD_SETLKW)"
}

// Raw one-to-one calls: -1 and errno exactly as the shim returns them. In debug builds each
// one first asks the fault injector whether to fail or shorten this call.

@inline(__always)
func system_openat(_ dirFD: CInt, _ path: UnsafePointer<CChar>, _ flags: CInt, _ mode: mode_t) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.openat) { return CInt(injected) }
    #endif
    return CLocalStorage_openat(dirFD, path, flags, mode)
}

@inline(__always)
func system_openat2(
    _ dirFD: CInt, _ path: UnsafePointer<CChar>, _ flags: CInt, _ mode: mode_t, _ resolve: UInt64
) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.openat2) { return CInt(injected) }
    #endif
    return CLocalStorage_openat2(dirFD, path, UInt64(UInt32(bitPattern: flags)), UInt64(mode), resolve)
}

@inline(__always)
func system_close(_ fd: CInt) -> CInt {
    #if ENABLE_MOCKING
    // An injected close failure still closes the descriptor, as the kernel does.
    if let injected = mockFailure(.close) {
        let saved = Errno.current
        _ = CLocalStorage_close(fd)
        CLocalStorage_set_errno(saved.rawValue)
        return CInt(injected)
    }
    #endif
    return CLocalStorage_close(fd)
}

@inline(__always)
func system_read(_ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.read, count: &count) { return injected }
    let result = CLocalStorage_read(fd, buffer, count)
    mockRecord(.read, result)
    return result
    #else
    return CLocalStorage_read(fd, buffer, count)
    #endif
}

@inline(__always)
func system_pread_nowait(_ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.preadv2, count: &count) { return injected }
    let result = CLocalStorage_pread_nowait(fd, buffer, count, offset)
    mockRecord(.preadv2, result)
    return result
    #else
    return CLocalStorage_pread_nowait(fd, buffer, count, offset)
    #endif
}

@inline(__always)
func system_pread(_ fd: CInt, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.pread, count: &count) { return injected }
    let result = CLocalStorage_pread(fd, buffer, count, offset)
    mockRecord(.pread, result)
    return result
    #else
    return CLocalStorage_pread(fd, buffer, count, offset)
    #endif
}

@inline(__always)
func system_write(_ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.write, count: &count) { return injected }
    let result = CLocalStorage_write(fd, buffer, count)
    mockRecord(.write, result)
    return result
    #else
    return CLocalStorage_write(fd, buffer, count)
    #endif
}

@inline(__always)
func system_pwrite(_ fd: CInt, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.pwrite, count: &count) { return injected }
    #endif
    return CLocalStorage_pwrite(fd, buffer, count, offset)
}

@inline(__always)
func system_lseek(_ fd: CInt, _ offset: off_t, _ whence: CInt) -> off_t {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.lseek) { return off_t(injected) }
    #endif
    return CLocalStorage_lseek(fd, offset, whence)
}

@inline(__always)
func system_copy_file_range(_ fdIn: CInt, _ fdOut: CInt, _ count: Int) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.copyFileRange, count: &count) { return injected }
    let result = CLocalStorage_copy_file_range(fdIn, nil, fdOut, nil, count, 0)
    mockRecord(.copyFileRange, result)
    return result
    #else
    return CLocalStorage_copy_file_range(fdIn, nil, fdOut, nil, count, 0)
    #endif
}

@inline(__always)
func system_sendfile(_ outFD: CInt, _ inFD: CInt, _ count: Int) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.sendfile, count: &count) { return injected }
    let result = CLocalStorage_sendfile(outFD, inFD, nil, count)
    mockRecord(.sendfile, result)
    return result
    #else
    return CLocalStorage_sendfile(outFD, inFD, nil, count)
    #endif
}

@inline(__always)
func system_splice(_ fdIn: CInt, _ fdOut: CInt, _ count: Int, _ flags: CUnsignedInt) -> Int {
    #if ENABLE_MOCKING
    var count = count
    if let injected = mockAction(.splice, count: &count) { return injected }
    let result = CLocalStorage_splice(fdIn, nil, fdOut, nil, count, flags)
    mockRecord(.splice, result)
    return result
    #else
    return CLocalStorage_splice(fdIn, nil, fdOut, nil, count, flags)
    #endif
}

@inline(__always)
func system_ficlone(_ destFD: CInt, _ srcFD: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.ficlone) { return CInt(injected) }
    #endif
    return CLocalStorage_ficlone(destFD, srcFD)
}

@inline(__always)
func system_fallocate(_ fd: CInt, _ mode: CInt, _ offset: off_t, _ length: off_t) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fallocate) { return CInt(injected) }
    #endif
    return CLocalStorage_fallocate(fd, mode, offset, length)
}

@inline(__always)
func system_ftruncate(_ fd: CInt, _ length: off_t) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.ftruncate) { return CInt(injected) }
    #endif
    return CLocalStorage_ftruncate(fd, length)
}

@inline(__always)
func system_fadvise(_ fd: CInt, _ offset: off_t, _ length: off_t, _ advice: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fadvise) { return CInt(injected) }
    #endif
    return CLocalStorage_fadvise(fd, offset, length, advice)
}

@inline(__always)
func system_pipe2(_ fds: UnsafeMutablePointer<CInt>, _ flags: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.pipe2) { return CInt(injected) }
    #endif
    return CLocalStorage_pipe2(fds, flags)
}

@inline(__always)
func system_fcntl(_ fd: CInt, _ command: CInt, _ argument: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fcntl) { return CInt(injected) }
    #endif
    return CLocalStorage_fcntl_int(fd, command, argument)
}

@inline(__always)
func system_flock(_ fd: CInt, _ operation: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.flock) { return CInt(injected) }
    #endif
    return CLocalStorage_flock(fd, operation)
}

/// fcntl(2) "Open file description locks": `wait` is F_OFD_SETLKW (blocks until granted),
/// otherwise F_OFD_SETLK (EAGAIN at once when held). `type` is F_WRLCK, F_RDLCK or F_UNLCK.
@inline(__always)
func system_ofd_lock(_ fd: CInt, wait: Bool, _ type: CInt, _ start: off_t, _ length: off_t) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(wait ? .ofdSetLockWait : .ofdSetLock) { return CInt(injected) }
    #endif
    return CLocalStorage_ofd_lock(
        fd, wait ? CLocalStorage_F_OFD_SETLKW : CLocalStorage_F_OFD_SETLK, CShort(truncatingIfNeeded: type), start, length)
}

@inline(__always)
func system_poll(_ fd: CInt, _ events: CShort) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.poll) { return CInt(injected) }
    #endif
    return CLocalStorage_poll_one(fd, events, -1)
}

@inline(__always)
func system_fsync(_ fd: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fsync) { return CInt(injected) }
    #endif
    return CLocalStorage_fsync(fd)
}

@inline(__always)
func system_renameat(
    _ oldDirFD: CInt, _ oldPath: UnsafePointer<CChar>, _ newDirFD: CInt, _ newPath: UnsafePointer<CChar>
) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.renameat) { return CInt(injected) }
    #endif
    return CLocalStorage_renameat(oldDirFD, oldPath, newDirFD, newPath)
}

@inline(__always)
func system_renameat2(
    _ oldDirFD: CInt, _ oldPath: UnsafePointer<CChar>, _ newDirFD: CInt, _ newPath: UnsafePointer<CChar>,
    _ flags: CUnsignedInt
) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.renameat2) { return CInt(injected) }
    #endif
    return CLocalStorage_renameat2(oldDirFD, oldPath, newDirFD, newPath, flags)
}

@inline(__always)
func system_unlinkat(_ dirFD: CInt, _ path: UnsafePointer<CChar>, _ flags: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.unlinkat) { return CInt(injected) }
    #endif
    return CLocalStorage_unlinkat(dirFD, path, flags)
}

@inline(__always)
func system_mkdirat(_ dirFD: CInt, _ path: UnsafePointer<CChar>, _ mode: mode_t) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.mkdirat) { return CInt(injected) }
    #endif
    return CLocalStorage_mkdirat(dirFD, path, mode)
}

@inline(__always)
func system_fstatat(
    _ dirFD: CInt, _ path: UnsafePointer<CChar>, _ buffer: UnsafeMutablePointer<stat>, _ flags: CInt
) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fstatat) { return CInt(injected) }
    #endif
    return CLocalStorage_fstatat(dirFD, path, buffer, flags)
}

@inline(__always)
func system_fstat(_ fd: CInt, _ buffer: UnsafeMutablePointer<stat>) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fstat) { return CInt(injected) }
    #endif
    return CLocalStorage_fstat(fd, buffer)
}

@inline(__always)
func system_fchmod(_ fd: CInt, _ mode: mode_t) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.fchmod) { return CInt(injected) }
    #endif
    return CLocalStorage_fchmod(fd, mode)
}

@inline(__always)
func system_futimens_now(_ fd: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.futimens) { return CInt(injected) }
    #endif
    return CLocalStorage_futimens_now(fd)
}

@inline(__always)
func system_futimens_atime_now(_ fd: CInt) -> CInt {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.futimens) { return CInt(injected) }
    #endif
    return CLocalStorage_futimens_atime_now(fd)
}

@inline(__always)
func system_getdents64(_ fd: CInt, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if ENABLE_MOCKING
    if let injected = mockFailure(.getdents64) { return injected }
    #endif
    return CLocalStorage_getdents64(fd, buffer, count)
}

@inline(__always)
func system_mmap(_ length: Int, _ fd: CInt) -> UnsafeMutableRawPointer? {
    #if ENABLE_MOCKING
    if mockFailure(.mmap) != nil { return nil }
    #endif
    let address = CLocalStorage_mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
    return address == CLocalStorage_MAP_FAILED() ? nil : address
}

@inline(__always)
func system_munmap(_ address: UnsafeMutableRawPointer, _ length: Int) -> CInt {
    CLocalStorage_munmap(address, length)
}
