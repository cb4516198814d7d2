import Glibc

/// Runs a raw call that returns -1 on failure, retrying EINTR, and throws the errno otherwise.
/// Never use it for `close`, which must not be retried.
@inline(__always)
func retryingInterrupts<T: FixedWidthInteger>(
    _ syscall: Syscall, _ body: () -> T
) throws(SyscallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let errno = Errno.current
        if errno != .interrupted { throw SyscallError(syscall: syscall, errno: errno) }
    }
}

/// Closes a descriptor once (EINTR is not retried: the descriptor is gone either way) and
/// returns the error the kernel reported, which matters only for files just written.
@discardableResult
func closeDescriptor(_ fd: CInt) -> SyscallError? {
    system_close(fd) == 0 ? nil : SyscallError(syscall: .close, errno: Errno.current)
}

/// Writes all `count` bytes, looping over short writes.
func writeAll(_ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int) throws(SyscallError) {
    var done = 0
    while done < count {
        let chunk = min(count - done, maxTransferChunk)
        let written = try retryingInterrupts(.write) { system_write(fd, buffer + done, chunk) }
        // A regular file never accepts 0 bytes of a non-empty write without an error; treat it as
        // one rather than loop forever.
        if written == 0 { throw SyscallError(syscall: .write, errno: .noSpace) }
        done += written
    }
}

/// Reads until `count` bytes or end of input; returns how many were read.
func readFully(_ fd: CInt, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SyscallError) -> Int {
    var done = 0
    while done < count {
        let chunk = min(count - done, maxTransferChunk)
        let got = try retryingInterrupts(.read) { system_read(fd, buffer + done, chunk) }
        if got == 0 { break }
        done += got
    }
    return done
}

/// The most a single read/write/copy_file_range/sendfile/splice moves on Linux.
let maxTransferChunk = 0x7fff_f000

/// fstat as a throwing call.
func fileStatus(_ fd: CInt) throws(SyscallError) -> stat {
    var status = stat()
    _ = try retryingInterrupts(.fstat) { system_fstat(fd, &status) }
    return status
}

extension stat {
    var isRegularFile: Bool { (st_mode & S_IFMT) == S_IFREG }
    var isDirectory: Bool { (st_mode & S_IFMT) == S_IFDIR }
    var isPipe: Bool { (st_mode & S_IFMT) == S_IFIFO }
    var isSocket: Bool { (st_mode & S_IFMT) == S_IFSOCK }
}
