#if S3
import Foundation
import Glibc
import LocalStorage
import NIOCore
import NIOPosix

/// Runs blocking descriptor I/O (the caller's files, pipes and sockets) on NIO's thread pool for
/// blocking work, never on the Swift concurrency pool: a read from a pipe may wait for as long as
/// its writer likes, and a pool thread held that long starves every task.
func blockingIO<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// The size of each read from a descriptor streamed into a request body, and of each batch of
/// received bytes written to a destination.
let descriptorChunkSize = 1 << 20

/// A failed read of the caller's source or write to the caller's destination.
struct DescriptorIOError: Error, Sendable {
    let syscall: String
    let errno: CInt
    var shortRead = false

    func error(operation: LocalStorageError.Operation, path: String, source: Bool) -> LocalStorageError {
        let text = shortRead ? "the source file ended before its announced size (it shrank meanwhile)" : errnoText(errno)
        return LocalStorageError(
            code: source ? .sourceUnreadable : .destinationUnwritable, operation: operation, syscall: syscall,
            errno: shortRead ? nil : errno, path: path, message: text)
    }
}

/// strerror's text for an errno.
func errnoText(_ value: CInt) -> String { strerror(value).map { String(cString: $0) } ?? "errno \(value)" }

/// One raw call under LocalStorage's retry policy (`retryingBackendCall`: EINTR retried, EAGAIN
/// on a caller's non-blocking descriptor named in `readable`/`writable` waited out with poll),
/// its failure a `DescriptorIOError` named `syscall`.
func call<T: FixedWidthInteger>(
    _ syscall: String, readable: CInt = -1, writable: CInt = -1, _ body: () -> T
) throws -> T {
    do {
        return try retryingBackendCall(readable: readable, writable: writable, body)
    } catch {
        throw DescriptorIOError(syscall: syscall, errno: error.errno)
    }
}

/// Reads until `buffer` is full or the end of the file; returns the bytes read.
func preadFully(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
        let pointer = base + done, count = buffer.count - done, position = off_t(offset) + off_t(done)
        let result = try call("pread") { pread(fd, pointer, count, position) }
        if result == 0 { break }
        done += result
    }
    return done
}

/// Reads from the current offset until `buffer` is full or the end of input (pipes, sockets,
/// files, non-blocking ones waited on with poll); returns the bytes read.
func readFully(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
        let pointer = base + done, count = buffer.count - done
        let result = try call("read", readable: fd) { read(fd, pointer, count) }
        if result == 0 { break }
        done += result
    }
    return done
}

/// Writes all of `bytes` at `offset` (`pwrite`) or at the current offset (`write`, when nil;
/// a non-blocking destination is waited on with poll), looping over short writes.
func writeFully(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int64?) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
        let pointer = base + done, count = bytes.count - done
        let result: Int
        if let offset {
            let position = off_t(offset) + off_t(done)
            result = try call("pwrite") { pwrite(fd, pointer, count, position) }
        } else {
            result = try call("write", writable: fd) { write(fd, pointer, count) }
        }
        // No destination accepts 0 bytes of a non-empty write without an error; treat it as one
        // rather than loop forever (as the engine's writeAll does).
        if result == 0 { throw DescriptorIOError(syscall: offset == nil ? "write" : "pwrite", errno: ENOSPC) }
        done += result
    }
}

/// Moves the offset of `fd` (`lseek`); returns the new offset.
@discardableResult
func seek(_ fd: CInt, to offset: Int64, whence: CInt = SEEK_SET) throws -> Int64 {
    Int64(try call("lseek") { lseek(fd, off_t(offset), whence) })
}

/// What the upload path needs to know of a source descriptor.
struct SourceShape {
    /// For a regular file: its current offset and size; nil for pipes, sockets and the like.
    var seekable: (offset: Int64, size: Int64)?

    init(fd: CInt) throws {
        var status = stat()
        _ = try withUnsafeMutablePointer(to: &status) { pointer in try call("fstat") { fstat(fd, pointer) } }
        if (status.st_mode & S_IFMT) == S_IFREG {
            let offset = try seek(fd, to: 0, whence: SEEK_CUR)
            seekable = (offset, Int64(status.st_size))
        } else if (status.st_mode & S_IFMT) == S_IFDIR {
            throw DescriptorIOError(syscall: "read", errno: EISDIR)
        }
    }
}
#endif
