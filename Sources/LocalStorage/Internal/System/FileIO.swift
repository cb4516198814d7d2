import Glibc

/// Writes all `count` bytes, looping over short writes. `caller`: the descriptor is the
/// caller's and may be non-blocking, so EAGAIN waits for room.
func writeAll(_ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int, caller: Bool = false) throws(SyscallError) {
    var done = 0
    while done < count {
        try checkCancellation(before: .write)
        let chunk = min(count - done, transferChunk(maxTransferChunk))
        let written = try retrying(.write, writable: caller ? fd : -1) { system_write(fd, buffer + done, chunk) }
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
        try checkCancellation(before: .read)
        let chunk = min(count - done, transferChunk(maxTransferChunk))
        let got = try retrying(.read) { system_read(fd, buffer + done, chunk) }
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
    _ = try retrying(.fstat) { system_fstat(fd, &status) }
    return status
}

/// fstatat without following a trailing symlink, as a throwing call.
func fileStatus(_ name: UnsafePointer<CChar>, in directory: CInt) throws(SyscallError) -> stat {
    var status = stat()
    _ = try retrying(.fstatat) { system_fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) }
    return status
}

extension stat {
    var isRegularFile: Bool { (st_mode & S_IFMT) == S_IFREG }
    var isDirectory: Bool { (st_mode & S_IFMT) == S_IFDIR }
    var isSymlink: Bool { (st_mode & S_IFMT) == S_IFLNK }
    var isPipe: Bool { (st_mode & S_IFMT) == S_IFIFO }
    var isSocket: Bool { (st_mode & S_IFMT) == S_IFSOCK }
    /// Device and inode: the file's identity.
    func isSameFile(as other: stat) -> Bool { st_dev == other.st_dev && st_ino == other.st_ino }
}
