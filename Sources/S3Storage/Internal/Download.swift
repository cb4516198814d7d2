#if S3
import AsyncHTTPClient
import Foundation
import Glibc
import LocalStorage
import NIOCore

extension S3Storage {
    /// Writes an object to `fd` at its current offset; returns the bytes written and leaves the
    /// offset after them. Concurrent ranged GETs into a regular file above the threshold; one GET
    /// streamed in order otherwise.
    func download(_ target: ObjectTarget, to fd: CInt, operation: LocalStorageError.Operation) async throws -> Int {
        let destination: SourceShape
        do { destination = try SourceShape(fd: fd) } catch let error as DescriptorIOError {
            throw error.error(operation: operation, path: target.path, source: false)
        }
        guard let (start, _) = destination.seekable else {
            return try await streamObject(target, to: fd, at: nil, operation: operation)
        }
        let head = try await headObject(target, operation: operation)
        let written: Int
        if head.size > Int64(transfer.multipartThreshold) {
            try await downloadRanges(target, size: head.size, etag: head.etag, to: fd, at: start, operation: operation)
            written = Int(head.size)
        } else {
            written = try await streamObject(target, to: fd, at: start, operation: operation)
        }
        guard lseek(fd, off_t(start) + off_t(written), SEEK_SET) >= 0 else {
            throw DescriptorIOError(syscall: "lseek", errno: errno).error(operation: operation, path: target.path, source: false)
        }
        return written
    }

    /// One GET, written as it arrives: with `pwrite` from `offset` (so a retry rewrites the same
    /// bytes), or with `write` in order (then a failure after the first byte is not retried).
    func streamObject(_ target: ObjectTarget, to fd: CInt, at offset: Int64?, operation: LocalStorageError.Operation) async throws -> Int {
        let path = target.path
        return try await connection.withRetries(S3Request(method: .GET, key: target.key), operation: operation, path: path) { response in
            let expected = response.headers.first(name: "content-length").flatMap { Int($0) }
            var written = 0
            do {
                for try await chunk in response.body {
                    try writeBuffer(chunk, fd: fd, at: offset.map { $0 + Int64(written) }, operation: operation, path: path)
                    written += chunk.readableBytes
                }
            } catch let error where offset == nil && written > 0 && !(error is LocalStorageError) {
                throw LocalStorageError(
                    code: .remote, operation: operation, path: path,
                    message: "the connection failed after \(written) bytes were written to a non-seekable destination: \(error)")
            }
            if let expected, expected != written {
                throw LocalStorageError(
                    code: .remote, operation: operation, path: path,
                    message: "the object's body ended after \(written) of \(expected) bytes")
            }
            return written
        }
    }

    /// Concurrent ranged GETs of `transfer.partSize` bytes, each written in place, all pinned to
    /// the ETag the HEAD gave (`If-Match`): an object replaced meanwhile fails with 412 instead of
    /// mixing two versions.
    func downloadRanges(
        _ target: ObjectTarget, size: Int64, etag: String?, to fd: CInt, at start: Int64, operation: LocalStorageError.Operation
    ) async throws {
        let partSize = Int64(transfer.partSize)
        let count = Int((size + partSize - 1) / partSize)
        let limit = transfer.concurrency
        let connection = connection
        let path = target.path
        let key = target.key
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for index in 0..<count {
                if inFlight == limit {
                    try await group.next()
                    inFlight -= 1
                }
                let first = Int64(index) * partSize
                let last = min(size, first + partSize) - 1
                var headers = [("range", "bytes=\(first)-\(last)")]
                if let etag { headers.append(("if-match", etag)) }
                let request = S3Request(method: .GET, key: key, headers: headers)
                group.addTask {
                    try await connection.withRetries(request, operation: operation, path: path) { response in
                        var written: Int64 = 0
                        for try await chunk in response.body {
                            try writeBuffer(chunk, fd: fd, at: start + first + written, operation: operation, path: path)
                            written += Int64(chunk.readableBytes)
                        }
                        guard written == last - first + 1 else {
                            throw LocalStorageError(
                                code: .remote, operation: operation, path: path,
                                message: "range \(first)-\(last) ended after \(written) bytes")
                        }
                    }
                }
                inFlight += 1
            }
            try await group.waitForAll()
        }
    }
}

/// Writes one received buffer; a failing destination is the caller's problem, never retried.
private func writeBuffer(_ buffer: ByteBuffer, fd: CInt, at offset: Int64?, operation: LocalStorageError.Operation, path: String) throws {
    do {
        try buffer.withUnsafeReadableBytes { try writeFully(fd, $0, at: offset) }
    } catch let error as DescriptorIOError {
        throw error.error(operation: operation, path: path, source: false)
    }
}
#endif
