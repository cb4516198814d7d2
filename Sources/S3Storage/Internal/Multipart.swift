#if S3
import Foundation
import Glibc
import LocalStorage
import NIOCore

/// Where the parts of a multipart upload come from.
enum PartSource: @unchecked Sendable {
    // @unchecked: Data is Sendable; the descriptors are the caller's, open for the whole call.
    /// Slices of an in-memory buffer, each copied into its request as it is sent.
    case memory(Data)
    /// Ranges of a regular file, each streamed with `pread` as it is sent (unsigned payload).
    case file(fd: CInt, offset: Int64, length: Int64)
    /// Ranges of a regular file, each read into memory first (signed payload).
    case bufferedFile(fd: CInt, offset: Int64, length: Int64)
}

extension S3Storage {
    /// The part size for an object of `total` bytes: the configured one, grown so that the
    /// object fits in S3's 10,000 parts.
    func partSize(forTotal total: Int64) -> Int64 {
        let configured = Int64(transfer.partSize)
        let needed = (total + 9_999) / 10_000
        return max(configured, (needed + (1 << 20) - 1) / (1 << 20) * (1 << 20))
    }

    /// Uploads a source of known size in parts, `transfer.concurrency` at a time.
    func uploadMultipart(_ target: ObjectTarget, source: PartSource) async throws {
        let total: Int64
        switch source {
        case .memory(let data): total = Int64(data.count)
        case .file(_, _, let length), .bufferedFile(_, _, let length): total = length
        }
        let size = partSize(forTotal: total)
        let count = Int((total + size - 1) / size)
        try await withMultipartUpload(target) { upload in
            try await upload.sendParts { number in
                guard number <= count else { return nil }
                let start = Int64(number - 1) * size
                let length = min(size, total - start)
                switch source {
                case .memory(let data):
                    let from = data.startIndex + Int(start)
                    return .bytes(ByteBuffer(bytes: data[from..<from + Int(length)]))
                case .file(let fd, let offset, _):
                    return .file(fd: fd, offset: offset + start, length: length)
                case .bufferedFile(let fd, let offset, _):
                    return .bytes(try await blockingIO { try readRange(fd: fd, offset: offset + start, length: Int(length)) })
                }
            }
        }
    }

    /// Uploads a source read in order to its end (a pipe, a socket, standard input): one PUT if
    /// it ends within the first part, a multipart upload otherwise. At most `concurrency + 1`
    /// parts are in memory at once.
    func uploadSequential(_ target: ObjectTarget, fd: CInt) async throws {
        let size = transfer.partSize
        let first = try await blockingIO { try readPart(fd: fd, size: size) }
        if first.readableBytes < size {
            _ = try await connection.send(
                S3Request(method: .PUT, key: target.key, body: .bytes(first)), operation: .upload, path: target.path)
            return
        }
        let firstPart = UncheckedBox(first)
        try await withMultipartUpload(target) { upload in
            var ended = false
            try await upload.sendParts { number in
                if number == 1 { return .bytes(firstPart.value) }
                if ended { return nil }
                let part = try await blockingIO { try readPart(fd: fd, size: size) }
                if part.readableBytes < size { ended = true }
                // A source that ends exactly on a part boundary gives one empty read: no part.
                return part.readableBytes == 0 ? nil : .bytes(part)
            }
        }
    }

    /// Creates a multipart upload, runs `body` to send its parts, completes it; aborts it on any
    /// failure (cancellation included), so no parts stay stored.
    func withMultipartUpload(_ target: ObjectTarget, _ body: (MultipartUpload) async throws -> Void) async throws {
        let created = try await connection.send(
            S3Request(method: .POST, key: target.key, query: [("uploads", "")], idempotent: false), operation: .upload,
            path: target.path)
        guard let document = XMLElementNode.parse(Data(created.body.readableBytesView)),
            let uploadID = document.text("UploadId"), !uploadID.isEmpty
        else {
            throw LocalStorageError(
                code: .remote, operation: .upload, path: target.path,
                message: "CreateMultipartUpload answered without an UploadId", httpStatus: created.status)
        }
        let upload = MultipartUpload(storage: self, target: target, uploadID: uploadID)
        do {
            try await body(upload)
            try await upload.complete()
        } catch {
            await upload.abort()
            throw error
        }
    }
}

/// Reads up to `size` bytes from the current offset (fewer only at the end of input).
func readPart(fd: CInt, size: Int) throws -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: size)
    _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
        try readFully(fd, UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]))
    }
    return buffer
}

/// A value handed to concurrent code that only reads it.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One multipart upload in progress: its parts' ETags, completion and abort.
final class MultipartUpload: @unchecked Sendable {
    // @unchecked: `etags` is written only by `sendParts`' loop, which collects child results.
    let storage: S3Storage
    let target: ObjectTarget
    let uploadID: String
    private var etags: [Int: String] = [:]

    init(storage: S3Storage, target: ObjectTarget, uploadID: String) {
        self.storage = storage
        self.target = target
        self.uploadID = uploadID
    }

    /// Sends the parts `nextPart` produces (numbered from 1, until it returns nil), at most
    /// `concurrency` at a time; the next part is produced only when a slot is free. The first
    /// failure cancels the others and is thrown.
    func sendParts(_ nextPart: (Int) async throws -> S3Body?) async throws {
        let connection = storage.connection
        let limit = storage.transfer.concurrency
        let key = target.key
        let path = target.path
        let uploadID = uploadID
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var number = 1
            var inFlight = 0
            while true {
                if inFlight == limit, let (done, etag) = try await group.next() {
                    etags[done] = etag
                    inFlight -= 1
                }
                guard let body = try await nextPart(number) else { break }
                let partNumber = number
                group.addTask {
                    let response = try await connection.send(
                        S3Request(
                            method: .PUT, key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
                            body: body), operation: .upload, path: path)
                    guard let etag = response.headers.first(name: "etag") else {
                        throw LocalStorageError(
                            code: .remote, operation: .upload, path: path,
                            message: "UploadPart \(partNumber) answered without an ETag", httpStatus: response.status)
                    }
                    return (partNumber, etag)
                }
                inFlight += 1
                number += 1
            }
            while let (done, etag) = try await group.next() { etags[done] = etag }
        }
    }

    /// CompleteMultipartUpload with every part in order. S3 may answer 200 and still report an
    /// error in the body: that is a failure too.
    func complete() async throws {
        let parts = etags.keys.sorted().map { number in
            "<Part><PartNumber>\(number)</PartNumber><ETag>\(xmlEscaped(etags[number] ?? ""))</ETag></Part>"
        }
        let xml = "<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>"
        // Retried like the other requests: repeating a Complete whose answer was lost gives
        // NoSuchUpload, thrown (the object may then exist; the caller cannot be told it does).
        let response = try await storage.connection.send(
            S3Request(method: .POST, key: target.key, query: [("uploadId", uploadID)], body: .bytes(ByteBuffer(string: xml))),
            operation: .upload, path: target.path)
        if let document = XMLElementNode.parse(Data(response.body.readableBytesView)), document.name == "Error" {
            throw RemoteFailure(
                status: response.status, code: document.text("Code"), message: document.text("Message"),
                requestID: response.headers.first(name: "x-amz-request-id")
            ).error(operation: .upload, path: target.path)
        }
    }

    /// AbortMultipartUpload, retried like any idempotent request; run even when the caller's task
    /// is cancelled, on the library's own executor. A failure to abort is not thrown (the
    /// upload's own failure is what the caller needs), the bucket's lifecycle rules or a later
    /// abort must then collect the parts.
    func abort() async {
        let connection = storage.connection
        let request = S3Request(method: .DELETE, key: target.key, query: [("uploadId", uploadID)])
        let path = target.path
        _ = await Task(executorPreference: DedicatedExecutor.shared) {
            try? await connection.send(request, operation: .upload, path: path, accept: [404])
        }.value
    }
}
#endif

#if S3
extension S3Storage {
    /// The keys of multipart uploads in progress under this storage's prefix (ListMultipartUploads,
    /// first page): what an aborted upload must not leave behind.
    func pendingMultipartUploads() async throws -> [String] {
        let listPrefix = prefix.isEmpty ? "" : prefix + "/"
        let response = try await connection.send(
            S3Request(method: .GET, query: [("uploads", ""), ("prefix", listPrefix)]), operation: .list,
            path: "s3://\(bucket)/\(listPrefix)")
        let document = XMLElementNode.parse(Data(response.body.readableBytesView))
        return document?.children("Upload").compactMap { $0.text("Key") } ?? []
    }
}
#endif
