import Glibc

/// One end of a transfer, with its fstat taken once.
struct Endpoint {
    let fd: CInt
    let status: stat
    /// The caller's descriptor, not the engine's: it may be non-blocking (EAGAIN then waits for
    /// readiness) and its refusals say nothing about the file system.
    var isCallers = false
    /// Opened with O_APPEND: copy_file_range and sendfile refuse it, the read/write loop does not.
    var appendOnly = false

    init(fd: CInt, status: stat) {
        self.fd = fd
        self.status = status
    }

    /// An endpoint for a temp file the engine just created: no fstat needed.
    init(fd: CInt, regularFileOn device: UInt64) {
        var status = stat()
        status.st_mode = S_IFREG
        status.st_dev = dev_t(device)
        self.init(fd: fd, status: status)
    }

    /// The caller's descriptor, inspected (fstat, and for a destination its O_APPEND flag).
    init(callers fd: CInt, asDestination: Bool) throws(SyscallError) {
        self.init(fd: fd, status: try fileStatus(fd))
        isCallers = true
        if asDestination {
            let flags = try retrying(.fcntl) { system_fcntl(fd, F_GETFL, 0) }
            appendOnly = flags & O_APPEND != 0
        }
    }

    var device: UInt64 { UInt64(status.st_dev) }

    /// The descriptor to wait on for input when it says EAGAIN, or -1.
    var readiness: CInt { isCallers ? fd : -1 }
}
