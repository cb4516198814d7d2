#if S3
import Foundation
import Glibc
import LocalStorage
import NIOCore

// The async API (AsyncBaseStorage): what every operation does.
extension S3Storage {
    /// Stores the UTF-8 bytes of `file` as `fileName` in `context`.
    /// - Parameter directStream: No effect for in-memory content; accepted for symmetry.
    /// - Returns: The stored name (`fileName(for: fileName)`), as `listStoredFiles` shows it.
    /// - Throws: `LocalStorageError`; see `uploadFile(file:fileName:context:directStream:)` for Data.
    @discardableResult
    public func uploadFile(file: String, fileName: String, context: String, directStream: Bool = false) async throws -> String {
        try await uploadFile(file: Data(file.utf8), fileName: fileName, context: context, directStream: directStream)
    }

    /// Stores `file` as `fileName` in `context`: one PUT with a signed payload up to the
    /// multipart threshold, a multipart upload of slices of `file` above it.
    /// - Parameter directStream: No effect for in-memory content; accepted for symmetry.
    /// - Returns: The stored name.
    /// - Throws: `LocalStorageError`: `.invalidName` before any request, `.permissionDenied` for
    ///   403, `.remote` for other failures (with `httpStatus`, `remoteErrorCode`, `requestID`).
    ///   After a failure the previous object, if any, is intact, and no upload part is left.
    @discardableResult
    public func uploadFile(file: Data, fileName: String, context: String, directStream: Bool = false) async throws -> String {
        let target = try objectKey(fileName, context, .upload)
        if file.count <= transfer.multipartThreshold {
            _ = try await connection.send(
                S3Request(method: .PUT, key: target.key, body: .bytes(ByteBuffer(bytes: file))), operation: .upload,
                path: target.path)
        } else {
            try await uploadMultipart(target, source: .memory(file))
        }
        return target.name
    }

    /// Stores everything from the handle's current offset to its end as `fileName` in `context`,
    /// with memory bounded whatever the size. The handle's offset ends at its end.
    ///
    /// - Parameter directStream: For a regular file, send the bytes from the descriptor with
    ///   `pread` as the request body goes out (`UNSIGNED-PAYLOAD`), never holding more than a
    ///   chunk per request in memory. Otherwise (or from a pipe or socket) parts are read into
    ///   memory and sent with signed payloads; at most `concurrency + 1` parts are held at once.
    /// - Returns: The stored name.
    /// - Throws: `LocalStorageError`; `.sourceUnreadable` if the handle cannot be read.
    @discardableResult
    public func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool = false) async throws -> String {
        let target = try objectKey(fileName, context, .upload)
        let fd = file.fileDescriptor
        let shape: SourceShape
        do { shape = try SourceShape(fd: fd) } catch let error as DescriptorIOError {
            throw error.error(operation: .upload, path: target.path, source: true)
        }
        do {
            if let (offset, size) = shape.seekable {
                let length = max(0, size - offset)
                if directStream && length <= Int64(transfer.multipartThreshold) {
                    _ = try await connection.send(
                        S3Request(method: .PUT, key: target.key, body: .file(fd: fd, offset: offset, length: length)),
                        operation: .upload, path: target.path)
                } else if length <= Int64(transfer.multipartThreshold) {
                    let data = try await blockingIO { try readRange(fd: fd, offset: offset, length: Int(length)) }
                    _ = try await connection.send(
                        S3Request(method: .PUT, key: target.key, body: .bytes(data)), operation: .upload, path: target.path)
                } else {
                    try await uploadMultipart(
                        target,
                        source: directStream
                            ? .file(fd: fd, offset: offset, length: length) : .bufferedFile(fd: fd, offset: offset, length: length))
                }
                try seek(fd, to: offset + length)
            } else {
                try await uploadSequential(target, fd: fd)
            }
        } catch let error as DescriptorIOError {
            throw error.error(operation: .upload, path: target.path, source: true)
        }
        return target.name
    }

    /// The complete content of a stored file, in one GET.
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist.
    public func downloadFile(_ fileName: String, context: String) async throws -> Data {
        let target = try objectKey(fileName, context, .download)
        let response = try await connection.send(
            S3Request(method: .GET, key: target.key), operation: .download, path: target.path, maxBody: Int.max)
        return Data(response.body.readableBytesView)
    }

    /// Writes a stored file to `destination` at its current offset and leaves the offset at the
    /// end of what was written; returns the bytes written.
    ///
    /// To a regular file, objects above the multipart threshold come in concurrent ranged GETs,
    /// each written in place with `pwrite`, all pinned to one version of the object (`If-Match`
    /// on its ETag). To a pipe or socket, one GET streamed in order.
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist,
    ///   `.destinationUnwritable` if the handle cannot be written.
    public func downloadFile(_ fileName: String, context: String, to destination: FileHandle) async throws -> Int {
        let target = try objectKey(fileName, context, .export)
        return try await download(target, to: destination.fileDescriptor, operation: .export)
    }

    /// A handle open for reading at offset 0 on a private copy of a stored file: an unnamed
    /// temporary file (`O_TMPFILE` in the temporary directory), gone when the handle closes.
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist.
    public func getFileByHashcode(_ hashcode: String, context: String) async throws -> FileHandle {
        let target = try objectKey(hashcode, context, .open)
        let fd = try anonymousTemporaryFile(path: target.path)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        _ = try await download(target, to: fd, operation: .open)
        do { try seek(fd, to: 0) } catch let error as DescriptorIOError {
            throw error.error(operation: .open, path: target.path, source: false)
        }
        return handle
    }

    /// Whether an object of that name is stored in `context`: one HEAD.
    public func checkIfExists(_ fileName: String, context: String) async throws -> Bool {
        let target = try objectKey(fileName, context, .exists)
        let response = try await connection.send(
            S3Request(method: .HEAD, key: target.key), operation: .exists, path: target.path, accept: [404])
        return response.status != 404
    }

    /// Size and modification date of a stored file: one HEAD (`lastUsedDate` is the
    /// modification date; S3 keeps no access time).
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist.
    public func fileInfo(_ fileName: String, context: String) async throws -> StoredFileInfo {
        let target = try objectKey(fileName, context, .info)
        let head = try await headObject(target, operation: .info)
        return StoredFileInfo(name: target.name, size: head.size, modificationDate: head.modified, lastUsedDate: head.modified)
    }

    /// The names stored in `context` itself, sorted by UTF-8 bytes: ListObjectsV2 with the delimiter `/`, page
    /// after page. Sub-contexts, names no local file could have (empty components, reserved
    /// prefix) and lock objects are left out; `[]` for a context with nothing in it.
    public func listStoredFiles(_ context: String) async throws -> [String] {
        let components = try StorageNames.contextComponents(context, operation: .list)
        let keyPrefix = (prefix.isEmpty ? [] : [prefix]) + components.map(String.init)
        let listPrefix = keyPrefix.isEmpty ? "" : keyPrefix.joined(separator: "/") + "/"
        var names: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", listPrefix), ("delimiter", "/"), ("encoding-type", "url")]
            if let token { query.append(("continuation-token", token)) }
            let response = try await connection.send(
                S3Request(method: .GET, query: query), operation: .list, path: "s3://\(bucket)/\(listPrefix)")
            guard let document = XMLElementNode.parse(Data(response.body.readableBytesView)) else {
                throw LocalStorageError(
                    code: .remote, operation: .list, path: "s3://\(bucket)/\(listPrefix)",
                    message: "the ListObjectsV2 answer is not XML", httpStatus: response.status)
            }
            let encoded = document.text("EncodingType") == "url"
            for entry in document.children("Contents") {
                guard let raw = entry.text("Key") else { continue }
                let key = encoded ? formDecoded(raw) : raw
                guard key.hasPrefix(listPrefix) else { continue }
                let name = String(key.dropFirst(listPrefix.count))
                if StorageNames.isListable(name) { names.append(name) }
            }
            token = document.text("IsTruncated") == "true" ? document.text("NextContinuationToken") : nil
            if token?.isEmpty == true { token = nil }
        } while token != nil
        // The local backend's order: by UTF-8 bytes (S3 lists keys in that order too).
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Removes a stored file: a HEAD, then a DELETE.
    /// - Throws: `LocalStorageError` with `.notFound` if it does not exist (S3's DELETE itself
    ///   succeeds either way; the HEAD keeps the local backend's contract).
    public func deleteFile(_ fileName: String, context: String) async throws {
        let target = try objectKey(fileName, context, .delete)
        _ = try await headObject(target, operation: .delete)
        _ = try await connection.send(S3Request(method: .DELETE, key: target.key), operation: .delete, path: target.path)
    }

    /// Creates the bucket; succeeds if this account already owns it.
    /// - Throws: `LocalStorageError`: `.permissionDenied`, or `.remote` with `BucketAlreadyExists`
    ///   when another account owns the name.
    public func createBucket() async throws {
        do {
            _ = try await connection.send(
                S3Request(method: .PUT, key: nil), operation: .createBucket, path: "s3://\(bucket)")
        } catch let error as LocalStorageError where error.remoteErrorCode == "BucketAlreadyOwnedByYou" {
            return
        }
    }
}
#endif
