internal import CLocalStorage
import Glibc

/// How a transfer moved its bytes (tests and the benchmark assert on it).
enum TransferPath: String, Sendable {
    case reflink, copyFileRange, sendfile, splice, buffered, empty
}

/// The size of the one buffer a buffered copy reuses.
let bufferedChunk = 1 << 20

extension Engine {
    /// Moves everything from `source`'s current offset to its end (or `limit` bytes, if given)
    /// into `destination` at its current offset; both offsets advance. With `direct`,
    /// kernel-side paths go first (copy_file_range, then sendfile, for file to file; splice or
    /// sendfile towards a pipe or socket; splice from a pipe, or through a pipe from a socket),
    /// each falling back on EXDEV/EINVAL/ENOSYS/EOPNOTSUPP to the next and finally to a
    /// read/write loop over one reused buffer. Memory stays bounded.
    func transfer(
        from source: Endpoint, to destination: Endpoint, direct: Bool, limit: Int? = nil
    ) throws(SyscallError) -> (bytes: Int, path: TransferPath) {
        var moved = 0
        if direct {
            let src = source.status, dst = destination.status
            // Causes of refusal that belong to one descriptor, not to the file systems: ruled
            // out here, so that no refusal from them is remembered.
            let sameFile = src.isSameFile(as: dst)
            let fileToFile = !destination.appendOnly && !sameFile
            var kernelPaths: [KernelFeature] = []
            if src.isRegularFile && dst.isRegularFile {
                if fileToFile { kernelPaths = [.copyFileRange, .sendfile] }
            } else if src.isRegularFile && (dst.isPipe || dst.isSocket) {
                kernelPaths = dst.isPipe ? [.splice, .sendfile] : [.sendfile]
            } else if src.isPipe && (dst.isRegularFile || dst.isPipe || dst.isSocket) {
                if !dst.isRegularFile || !destination.appendOnly { kernelPaths = [.splice] }
            } else if src.isSocket && dst.isRegularFile && !destination.appendOnly
                && !support.isRefused(.splice, source: source.device, destination: destination.device)
            {
                // splice needs a pipe on one side: socket -> pipe -> file, still no user-space copy.
                let outcome = try spliceThroughPipe(from: source, to: destination, limit: limit)
                moved += outcome.moved
                guard let refusal = outcome.refusal else { return (moved, moved == 0 ? .empty : .splice) }
                noteRefusal(.splice, refusal, source, destination)
            }
            for feature in kernelPaths
            where !support.isRefused(feature, source: source.device, destination: destination.device) {
                let outcome = try kernelCopy(feature, from: source, to: destination, limit: limit.map { $0 - moved })
                moved += outcome.moved
                guard let refusal = outcome.refusal else {
                    return (moved, moved == 0 ? .empty : TransferPath(feature))
                }
                noteRefusal(feature, refusal, source, destination)
            }
        }
        moved += try bufferedCopy(from: source, to: destination, limit: limit.map { $0 - moved })
        return (moved, moved == 0 ? .empty : .buffered)
    }

    /// Copies all of `source` (from offset 0) into `destination` at its offset: for carrying a
    /// temp file's content over into a new one. Both are the engine's regular files.
    func copyWhole(from source: CInt, into destination: CInt) throws(SyscallError) {
        _ = try retrying(.lseek) { system_lseek(source, 0, SEEK_SET) }
        _ = try transfer(
            from: Endpoint(fd: source, regularFileOn: rootDevice), to: Endpoint(fd: destination, regularFileOn: rootDevice),
            direct: true)
    }

    /// EBADF is about a descriptor (a write-only source, say), never the file systems.
    private func noteRefusal(_ feature: KernelFeature, _ errno: Errno, _ source: Endpoint, _ destination: Endpoint) {
        guard errno != .badFileDescriptor else { return }
        support.noteRefusal(feature, errno: errno, source: source.device, destination: destination.device)
    }

    /// Clones all of `source` into the empty `destination` (FICLONE) where the file system
    /// shares extents; returns false where it cannot. Only answers about the file systems
    /// (EOPNOTSUPP, EXDEV, ENOTTY, ENOSYS) are remembered for the device pair; EBADF (a
    /// write-only source), EINVAL and EPERM are about these files, and just fall back.
    func reflink(from source: Endpoint, to destination: Endpoint) throws(SyscallError) -> Bool {
        guard !support.isRefused(.ficlone, source: source.device, destination: destination.device) else { return false }
        do {
            _ = try retrying(.ficlone) { system_ficlone(destination.fd, source.fd) }
            return true
        } catch {
            let errno = error.errno
            if errno == .notSupported || errno == .crossDevice || errno == .noSystemCall || errno.rawValue == ENOTTY {
                support.noteRefusal(.ficlone, errno: errno, source: source.device, destination: destination.device)
                return false
            }
            if errno == .invalidArgument || errno == .badFileDescriptor || errno == .notPermitted { return false }
            throw error
        }
    }

    /// Runs one kernel-side method until it reports end of input (0) or `limit` bytes moved.
    /// Returns the bytes moved and, if the kernel refused the method, its errno so the caller
    /// can fall back and carry on from the offsets the kernel left.
    private func kernelCopy(
        _ feature: KernelFeature, from source: Endpoint, to destination: Endpoint, limit: Int?
    ) throws(SyscallError) -> (moved: Int, refusal: Errno?) {
        let spliceFlags = CLocalStorage_SPLICE_F_MOVE | CLocalStorage_SPLICE_F_MORE
        let (input, output) = (source.fd, destination.fd)
        var moved = 0
        while true {
            let chunk = min(transferChunk(maxTransferChunk), limit.map { $0 - moved } ?? maxTransferChunk)
            if chunk <= 0 { return (moved, nil) }
            try checkCancellation(before: feature == .copyFileRange ? .copyFileRange : feature == .sendfile ? .sendfile : .splice)
            let result: Int
            do {
                switch feature {
                case .copyFileRange:
                    result = try retrying(.copyFileRange) { system_copy_file_range(input, output, chunk) }
                case .sendfile:
                    result = try retrying(.sendfile, readable: source.readiness, writable: destination.readiness) {
                        system_sendfile(output, input, chunk)
                    }
                default:
                    result = try retrying(.splice, readable: source.readiness, writable: destination.readiness) {
                        system_splice(input, output, chunk, spliceFlags)
                    }
                }
            } catch  where error.errno.meansUnsupported || error.errno == .badFileDescriptor {
                return (moved, error.errno)
            }
            if result == 0 { return (moved, nil) }
            moved += result
        }
    }

    /// socket -> pipe -> destination with splice. Each batch the kernel puts in the pipe is
    /// drained before the next, so a refusal leaves nothing behind in it.
    private func spliceThroughPipe(
        from source: Endpoint, to destination: Endpoint, limit: Int?
    ) throws(SyscallError) -> (moved: Int, refusal: Errno?) {
        var ends: (CInt, CInt) = (-1, -1)
        _ = try withUnsafeMutablePointer(to: &ends) { pointer throws(SyscallError) in
            try pointer.withMemoryRebound(to: CInt.self, capacity: 2) { fds throws(SyscallError) in
                try retrying(.pipe2) { system_pipe2(fds, O_CLOEXEC) }
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
            let want = min(capacity, limit.map { $0 - moved } ?? capacity)
            if want <= 0 { return (moved, nil) }
            try checkCancellation(before: .splice)
            let batch: Int
            do {
                batch = try retrying(.splice, readable: source.readiness) { system_splice(source.fd, writeEnd, want, flags) }
            } catch  where error.errno.meansUnsupported {
                return (moved, error.errno)
            }
            if batch == 0 { return (moved, nil) }
            var left = batch
            while left > 0 {
                let out: Int
                do {
                    out = try retrying(.splice) { system_splice(readEnd, destination.fd, left, flags) }
                } catch  where error.errno.meansUnsupported {
                    // The destination refuses splice: hand what is in the pipe over by copy.
                    try drain(readEnd, count: left, into: destination)
                    return (moved + batch, error.errno)
                }
                if out == 0 { throw SyscallError(syscall: .splice, errno: .ioError) }
                left -= out
            }
            moved += batch
        }
    }

    /// Copies exactly `count` bytes from a pipe to `destination` through a small buffer.
    private func drain(_ pipe: CInt, count: Int, into destination: Endpoint) throws(SyscallError) {
        let size = min(count, bufferedChunk)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var left = count
        while left > 0 {
            let got = try retrying(.read) { system_read(pipe, buffer, min(left, size)) }
            if got == 0 { throw SyscallError(syscall: .read, errno: .ioError) }
            try writeAll(destination.fd, buffer, got, caller: destination.isCallers)
            left -= got
        }
    }

    /// The portable path: read into one reused buffer, write it all, until end of input (or
    /// `limit` bytes).
    func bufferedCopy(from source: Endpoint, to destination: Endpoint, limit: Int? = nil) throws(SyscallError) -> Int {
        let capacity = min(bufferedChunk, max(limit ?? bufferedChunk, 1))
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 4096)
        defer { buffer.deallocate() }
        var moved = 0
        while true {
            let want = min(capacity, limit.map { $0 - moved } ?? capacity)
            if want <= 0 { return moved }
            try checkCancellation(before: .read)
            let got = try retrying(.read, readable: source.readiness) { system_read(source.fd, buffer, want) }
            if got == 0 { return moved }
            try writeAll(destination.fd, buffer, got, caller: destination.isCallers)
            moved += got
        }
    }
}

extension TransferPath {
    init(_ feature: KernelFeature) {
        switch feature {
        case .copyFileRange: self = .copyFileRange
        case .sendfile: self = .sendfile
        default: self = .splice
        }
    }
}
