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
        do { try seek(fd, to: start + Int64(written)) } catch let error as DescriptorIOError {
            throw error.error(operation: operation, path: target.path, source: false)
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
                written = try await writeBody(response.body, fd: fd, at: offset, operation: operation, path: path)
            } catch let error as PartialBodyFailure where offset == nil && error.written > 0 && !(error.underlying is LocalStorageError) {
                written = error.written
                throw LocalStorageError(
                    code: .remote, operation: operation, path: path,
                    message: "the connection failed after \(written) bytes were written to a non-seekable destination: \(error.underlying)")
            } catch let error as PartialBodyFailure {
                throw error.underlying
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
                        let written: Int64
                        do {
                            written = Int64(try await writeBody(response.body, fd: fd, at: start + first, operation: operation, path: path))
                        } catch let error as PartialBodyFailure {
                            throw error.underlying
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

/// A response body that failed after `written` bytes reached the destination.
struct PartialBodyFailure: Error {
    let written: Int
    let underlying: any Error
}

/// Writes a response body to `fd` as it arrives, from `offset` with `pwrite` or in order with
/// `write`, in batches of up to `descriptorChunkSize` bytes, each written off the concurrency
/// pool. Returns the bytes written; a failure is thrown as `PartialBodyFailure`, with a failing
/// destination as its `LocalStorageError` (never retried: it is the caller's).
private func writeBody(
    _ body: HTTPClientResponse.Body, fd: CInt, at offset: Int64?, operation: LocalStorageError.Operation, path: String
) async throws -> Int {
    var written = 0
    var pending = ByteBuffer()
    func flush() async throws {
        guard pending.readableBytes > 0 else { return }
        let batch = pending
        let position = offset.map { $0 + Int64(written) }
        do {
            try await blockingIO { try batch.withUnsafeReadableBytes { try writeFully(fd, $0, at: position) } }
        } catch let error as DescriptorIOError {
            throw error.error(operation: operation, path: path, source: false)
        }
        written += batch.readableBytes
        pending.clear()
    }
    do {
        for try await var chunk in body {
            if pending.readableBytes == 0 && chunk.readableBytes >= descriptorChunkSize {
                pending = chunk
            } else {
                pending.writeBuffer(&chunk)
            }
            if pending.readableBytes >= descriptorChunkSize { try await flush() }
        }
        try await flush()
    } catch {
        throw PartialBodyFailure(written: written, underlying: error)
    }
    return written
}
#endif
