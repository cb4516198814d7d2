import Glibc
import LocalStorage

// The read/write loops lstore runs itself when it shows progress for a pipe (the library's
// kernel-side transfers give no progress to watch on a pipe). One 1 MiB buffer; EINTR retried;
// a non-blocking descriptor waited on with poll.

/// The size of the one buffer a loop reuses.
let streamChunk = 1 << 20

/// The descriptor's file status, or nil if fstat fails.
func fileStatus(_ fd: CInt) -> stat? {
    var status = stat()
    return fstat(fd, &status) == 0 ? status : nil
}

/// Whether a status is a regular file's.
func isRegularFile(_ status: stat?) -> Bool {
    guard let status else { return false }
    return status.st_mode & S_IFMT == S_IFREG
}

/// The descriptor's offset, or 0 where it has none (a pipe).
func currentOffset(_ fd: CInt) -> Int64 {
    max(0, Int64(lseek(fd, 0, SEEK_CUR)))
}

/// Reads `fd` to its end in 1 MiB pieces, handing each to `body`.
/// - Throws: `Failure` when a read fails (`what` names the source), or what `body` throws.
func readToEnd(_ fd: CInt, what: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: streamChunk, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let got = read(fd, buffer.baseAddress, buffer.count)
        if got < 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                waitFor(fd, events: Int16(POLLIN))
                continue
            }
            throw Failure(.failure, "\(what): cannot read: \(String(cString: strerror(code)))")
        }
        if got == 0 { return }
        try body(UnsafeRawBufferPointer(rebasing: buffer[..<got]))
    }
}

/// Writes all of `bytes` to `fd`.
/// - Throws: `Failure` when a write fails (`what` names the destination).
func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, what: String) throws {
    guard var base = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
        let written = write(fd, base, left)
        if written < 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                waitFor(fd, events: Int16(POLLOUT))
                continue
            }
            throw Failure(.failure, "\(what): cannot write: \(String(cString: strerror(code)))")
        }
        base += written
        left -= written
    }
}

/// Blocks until `fd` is ready for `events` (or reports an error or hang-up, which the next
/// read or write then returns).
private func waitFor(_ fd: CInt, events: Int16) {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    while poll(&entry, 1, -1) < 0 && errno == EINTR {}
}

/// "standard input" or the path, for messages.
func sourceName(_ file: String?) -> String {
    guard let file, file != "-" else { return "standard input" }
    return file
}
