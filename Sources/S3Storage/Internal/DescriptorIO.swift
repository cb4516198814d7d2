#if S3
import Foundation
import Glibc
import LocalStorage
import NIOCore

/// The bytes of a descriptor range, read with `pread` in chunks as the request body is sent:
/// memory stays at one chunk in flight per request, whatever the size.
struct DescriptorChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let fd: CInt
    let offset: Int64
    let length: Int64
    static let chunkSize = 256 << 10

    struct AsyncIterator: AsyncIteratorProtocol {
        let fd: CInt
        var position: Int64
        let end: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(DescriptorChunks.chunkSize), end - position))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                try preadFully(fd, UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), at: position)
            }
            // A file that shrank under the upload: sending fewer bytes than announced would fail
            // the request anyway; say why.
            guard read == count else { throw DescriptorIOError(syscall: "pread", errno: 0, shortRead: true) }
            position += Int64(count)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fd: fd, position: offset, end: offset + length) }
}

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
