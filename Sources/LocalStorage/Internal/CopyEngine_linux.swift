internal import CLocalStorage
import Glibc

/// One end of a transfer, with its fstat taken once.
struct Endpoint {
    let fd: CInt
    let status: stat

    init(fd: CInt, status: stat) {
        self.fd = fd
        self.status = status
    }

    init(fd: CInt) throws(SyscallError) {
        self.fd = fd
        self.status = try fileStatus(fd)
    }

    var device: UInt64 { UInt64(status.st_dev) }
}

/// How a transfer moved its bytes (tests and the benchmark assert on it).
enum TransferPath: String, Sendable {
    case reflink, copyFileRange, sendfile, splice, buffered, empty
}

/// The size of the one buffer a buffered copy reuses.
let bufferedChunk = 1 << 20

extension Engine {
    /// Moves everything from `source`'s current offset to its end into `destination` at its
    /// current offset; both offsets advance. With `direct`, kernel-side paths go first
    /// (copy_file_range, then sendfile, for file to file; sendfile or splice towards a pipe or
    /// socket; splice from a pipe), each falling back on EXDEV/EINVAL/ENOSYS/EOPNOTSUPP to the
    /// next and finally to a read/write loop over one reused buffer. Memory stays bounded.
    func transfer(
        from source: Endpoint, to destination: Endpoint, direct: Bool
    ) throws(SyscallError) -> (bytes: Int, path: TransferPath) {
        var moved = 0
        if direct {
            let src = source.status, dst = destination.status
            var kernelPaths: [KernelFeature] = []
            if src.isRegularFile && dst.isRegularFile {
                kernelPaths = [.copyFileRange, .sendfile]
            } else if src.isRegularFile && (dst.isPipe || dst.isSocket) {
                kernelPaths = dst.isPipe ? [.splice, .sendfile] : [.sendfile]
            } else if src.isPipe && (dst.isRegularFile || dst.isPipe || dst.isSocket) {
                kernelPaths = [.splice]
            } else if src.isSocket && dst.isRegularFile
                && !support.isRefused(.splice, source: source.device, destination: destination.device)
            {
                // splice needs a pipe on one side: socket -> pipe -> file, still no user-space copy.
                let outcome = try spliceThroughPipe(from: source.fd, to: destination.fd)
                moved += outcome.moved
                guard let refusal = outcome.refusal else { return (moved, moved == 0 ? .empty : .splice) }
                support.noteRefusal(.splice, errno: refusal, source: source.device, destination: destination.device)
            }
            for feature in kernelPaths
            where !support.isRefused(feature, source: source.device, destination: destination.device) {
                let outcome = try kernelCopy(feature, from: source.fd, to: destination.fd)
                moved += outcome.moved
                guard let refusal = outcome.refusal else {
                    return (moved, moved == 0 ? .empty : TransferPath(feature))
                }
                if refusal != .badFileDescriptor {
                    support.noteRefusal(feature, errno: refusal, source: source.device, destination: destination.device)
                }
            }
        }
        moved += try bufferedCopy(from: source.fd, to: destination.fd)
        return (moved, moved == 0 ? .empty : .buffered)
    }

    /// Clones all of `source` into the empty `destination` (FICLONE) where the file system
    /// shares extents; returns false where it cannot, remembering that for the device pair.
    func reflink(from source: Endpoint, to destination: Endpoint) throws(SyscallError) -> Bool {
        guard !support.isRefused(.ficlone, source: source.device, destination: destination.device) else { return false }
        while true {
            if system_ficlone(destination.fd, source.fd) == 0 { return true }
            let errno = Errno.current
            if errno == .interrupted { continue }
            if errno.meansUnsupported || errno == .badFileDescriptor || errno.rawValue == EPERM {
                support.noteRefusal(.ficlone, errno: errno, source: source.device, destination: destination.device)
                return false
            }
            throw SyscallError(syscall: .ficlone, errno: errno)
        }
    }

    /// Runs one kernel-side method until it reports end of input (0). Returns the bytes moved
    /// and, if the kernel refused the method, its errno so the caller can fall back and carry on
    /// from the offsets the kernel left.
    private func kernelCopy(
        _ feature: KernelFeature, from source: CInt, to destination: CInt
    ) throws(SyscallError) -> (moved: Int, refusal: Errno?) {
        let syscall: Syscall
        switch feature {
        case .copyFileRange: syscall = .copyFileRange
        case .sendfile: syscall = .sendfile
        default: syscall = .splice
        }
        let spliceFlags = CLocalStorage_SPLICE_F_MOVE | CLocalStorage_SPLICE_F_MORE
        var moved = 0
        while true {
            let result: Int
            switch feature {
            case .copyFileRange: result = system_copy_file_range(source, destination, maxTransferChunk)
            case .sendfile: result = system_sendfile(destination, source, maxTransferChunk)
            default: result = system_splice(source, destination, maxTransferChunk, spliceFlags)
            }
            if result > 0 { moved += result; continue }
            if result == 0 { return (moved, nil) }
            let errno = Errno.current
            if errno == .interrupted { continue }
            // EBADF from copy_file_range: a destination opened O_APPEND; the loop copes.
            if errno.meansUnsupported || (errno == .badFileDescriptor && feature == .copyFileRange) {
                return (moved, errno)
            }
            throw SyscallError(syscall: syscall, errno: errno)
        }
    }

    /// socket -> pipe -> destination with splice. Each batch the kernel puts in the pipe is
    /// drained before the next, so a refusal leaves nothing behind in it.
    private func spliceThroughPipe(from source: CInt, to destination: CInt) throws(SyscallError) -> (moved: Int, refusal: Errno?) {
        var ends: (CInt, CInt) = (-1, -1)
        _ = try withUnsafeMutablePointer(to: &ends) { pointer throws(SyscallError) in
            try pointer.withMemoryRebound(to: CInt.self, capacity: 2) { fds throws(SyscallError) in
                try retryingInterrupts(.pipe2) { system_pipe2(fds, O_CLOEXEC) }
            }
        }
        let (readEnd, writeEnd) = ends
        defer {
            closeDescriptor(readEnd)
            closeDescriptor(writeEnd)
        }
        // A bigger pipe means fewer round trips; the default (64 KiB) still works if refused.
        _ = system_fcntl(writeEnd, CLocalStorage_F_SETPIPE_SZ, CInt(bufferedChunk))
        let capacity = max(Int(system_fcntl(writeEnd, CLocalStorage_F_GETPIPE_SZ, 0)), 4096)
        let flags = CLocalStorage_SPLICE_F_MOVE | CLocalStorage_SPLICE_F_MORE
        var moved = 0
        while true {
            let batch = system_splice(source, writeEnd, capacity, flags)
            if batch == 0 { return (moved, nil) }
            if batch < 0 {
                let errno = Errno.current
                if errno == .interrupted { continue }
                if errno.meansUnsupported { return (moved, errno) }
                throw SyscallError(syscall: .splice, errno: errno)
            }
            var left = batch
            while left > 0 {
                let out = system_splice(readEnd, destination, left, flags)
                if out > 0 { left -= out; continue }
                let errno = out == 0 ? Errno.ioError : Errno.current
                if errno == .interrupted { continue }
                if errno.meansUnsupported {
                    // The destination refuses splice: hand what is in the pipe over by copy.
                    try drain(readEnd, count: left, into: destination)
                    return (moved + batch, errno)
                }
                throw SyscallError(syscall: .splice, errno: errno)
            }
            moved += batch
        }
    }

    /// Copies exactly `count` bytes from a pipe to `destination` through a small buffer.
    private func drain(_ pipe: CInt, count: Int, into destination: CInt) throws(SyscallError) {
        let size = min(count, bufferedChunk)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var left = count
        while left > 0 {
            let got = try retryingInterrupts(.read) { system_read(pipe, buffer, min(left, size)) }
            if got == 0 { throw SyscallError(syscall: .read, errno: .ioError) }
            try writeAll(destination, buffer, got)
            left -= got
        }
    }

    /// The portable path: read into one reused buffer, write it all, until end of input.
    func bufferedCopy(from source: CInt, to destination: CInt) throws(SyscallError) -> Int {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferedChunk, alignment: 4096)
        defer { buffer.deallocate() }
        var moved = 0
        while true {
            let got = try retryingInterrupts(.read) { system_read(source, buffer, bufferedChunk) }
            if got == 0 { return moved }
            try writeAll(destination, buffer, got)
            moved += got
        }
    }
}

extension TransferPath {
    init(_ feature: KernelFeature) {
        switch feature {
        case .copyFileRange: self = .copyFileRange
        case .sendfile: self = .sendfile
        case .ficlone: self = .reflink
        default: self = .splice
        }
    }
}
