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

/// Reads until `buffer` is full or the end of the file; returns the bytes read. Retries EINTR.
func preadFully(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
        let result = pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
        if result < 0 {
            if errno == EINTR { continue }
            throw DescriptorIOError(syscall: "pread", errno: errno)
        }
        if result == 0 { break }
        done += result
    }
    return done
}

/// Reads from the current offset until `buffer` is full or the end of input (pipes, sockets,
/// files); returns the bytes read. Retries EINTR.
func readFully(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
        let result = read(fd, base + done, buffer.count - done)
        if result < 0 {
            if errno == EINTR { continue }
            throw DescriptorIOError(syscall: "read", errno: errno)
        }
        if result == 0 { break }
        done += result
    }
    return done
}

/// Writes all of `bytes` at `offset` (`pwrite`) or at the current offset (`write`, when nil).
/// Retries EINTR and short writes.
func writeFully(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int64?) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
        let pointer = base + done
        let result =
            if let offset { pwrite(fd, pointer, bytes.count - done, off_t(offset) + off_t(done)) } else {
                write(fd, pointer, bytes.count - done)
            }
        if result < 0 {
            if errno == EINTR { continue }
            throw DescriptorIOError(syscall: offset == nil ? "write" : "pwrite", errno: errno)
        }
        done += result
    }
}

/// What the upload path needs to know of a source descriptor.
struct SourceShape {
    /// For a regular file: its current offset and size; nil for pipes, sockets and the like.
    var seekable: (offset: Int64, size: Int64)?

    init(fd: CInt) throws {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw DescriptorIOError(syscall: "fstat", errno: errno) }
        if (status.st_mode & S_IFMT) == S_IFREG {
            let offset = lseek(fd, 0, SEEK_CUR)
            guard offset >= 0 else { throw DescriptorIOError(syscall: "lseek", errno: errno) }
            seekable = (Int64(offset), Int64(status.st_size))
        } else if (status.st_mode & S_IFMT) == S_IFDIR {
            throw DescriptorIOError(syscall: "read", errno: EISDIR)
        }
    }
}
#endif
