#if S3
import Foundation
import Glibc
import LocalStorage
import NIOCore

/// A validated name in a validated context, as an object key.
struct ObjectTarget: Sendable {
    /// The stored name (after `fileName(for:)`).
    let name: String
    /// `prefix/context/name`.
    let key: String
    /// `s3://bucket/key`, for error messages.
    let path: String
}

/// What a HEAD tells of an object.
struct ObjectHead: Sendable {
    let size: Int64
    let modified: Date
    let etag: String?
}

extension S3Storage {
    /// Validates and maps a name and context to their key, by the local backend's rules.
    func objectKey(_ fileName: String, _ context: String, _ operation: LocalStorageError.Operation) throws -> ObjectTarget {
        let name = self.fileName(for: fileName)
        try StorageNames.validateFileName(name, operation: operation)
        let components = try StorageNames.contextComponents(context, operation: operation)
        let key = ((prefix.isEmpty ? [] : [prefix]) + components.map(String.init) + [name]).joined(separator: "/")
        return ObjectTarget(name: name, key: key, path: "s3://\(bucket)/\(key)")
    }

    /// One HEAD; `.notFound` if there is no such object.
    func headObject(_ target: ObjectTarget, operation: LocalStorageError.Operation) async throws -> ObjectHead {
        let response = try await connection.send(S3Request(method: .HEAD, key: target.key), operation: operation, path: target.path)
        guard let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }) else {
            throw LocalStorageError(
                code: .remote, operation: operation, path: target.path, message: "the HEAD answer has no Content-Length",
                httpStatus: response.status)
        }
        let modified = response.headers.first(name: "last-modified").flatMap(httpDate) ?? Date(timeIntervalSince1970: 0)
        return ObjectHead(size: length, modified: modified, etag: response.headers.first(name: "etag"))
    }
}

/// Parses an HTTP date in its one current form, RFC 1123 (`Wed, 25 Nov 2026 19:43:57 GMT`).
func httpDate(_ text: String) -> Date? {
    let fields = text.split(separator: " ")
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    guard fields.count == 6, fields[5] == "GMT", let day = Int32(fields[1]), let month = months.firstIndex(of: String(fields[2])),
        let year = Int32(fields[3])
    else { return nil }
    let time = fields[4].split(separator: ":").compactMap { Int32($0) }
    guard time.count == 3 else { return nil }
    var parts = tm()
    parts.tm_year = year - 1900
    parts.tm_mon = Int32(month)
    parts.tm_mday = day
    parts.tm_hour = time[0]
    parts.tm_min = time[1]
    parts.tm_sec = time[2]
    return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
}

/// Decodes a key that ListObjectsV2 sent with `encoding-type=url`: percent escapes, and `+` for
/// a space (as S3 encodes it; a literal `+` comes as `%2B`).
func formDecoded(_ text: String) -> String {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8)[...]
    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    while let byte = iterator.popFirst() {
        if byte == UInt8(ascii: "+") {
            bytes.append(UInt8(ascii: " "))
        } else if byte == UInt8(ascii: "%"), iterator.count >= 2, let high = hexValue(iterator[iterator.startIndex]),
            let low = hexValue(iterator[iterator.startIndex + 1])
        {
            bytes.append(high << 4 | low)
            iterator = iterator.dropFirst(2)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads `length` bytes at `offset` into a buffer (the signed-payload path for small files).
func readRange(fd: CInt, offset: Int64, length: Int) throws -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: length)
    let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
        try preadFully(fd, UnsafeMutableRawBufferPointer(rebasing: raw[0..<length]), at: offset)
    }
    guard read == length else { throw DescriptorIOError(syscall: "pread", errno: 0, shortRead: true) }
    return buffer
}

/// Linux's O_TMPFILE (`__O_TMPFILE | O_DIRECTORY`, the same on x86_64 and arm64), which Glibc's
/// module does not export.
private let openTemporaryFile: CInt = 0o20_200_000

/// An unnamed file in the temporary directory (`O_TMPFILE`; else a named one created with
/// `O_EXCL` and unlinked at once), opened with `O_CLOEXEC`.
func anonymousTemporaryFile(path: String) throws -> CInt {
    let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    let flags = openTemporaryFile | O_RDWR | O_CLOEXEC
    do {
        return try directory.withCString { name in try call("open") { open(name, flags, 0o600) } }
    } catch {
        // A file system without O_TMPFILE (or any other refusal, which the named file meets again).
    }
    for _ in 0..<100 {
        let name = "\(directory)/.s3storage-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        do {
            let fd = try name.withCString { cName in
                try call("open") { open(cName, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600) }
            }
            _ = name.withCString { cName in unlink(cName) }
            return fd
        } catch let error as DescriptorIOError where error.errno == EEXIST {
            continue
        } catch let error as DescriptorIOError {
            throw LocalStorageError(
                code: error.errno == ENOSPC ? .noSpace : error.errno == EACCES ? .permissionDenied : .systemError,
                operation: .open, syscall: "open", errno: error.errno, path: path,
                message: "cannot create a temporary file in \(directory): \(errnoText(error.errno))")
        }
    }
    throw LocalStorageError(
        code: .systemError, operation: .open, syscall: "open", errno: EEXIST, path: path,
        message: "cannot create a temporary file in \(directory): 100 random names were all taken")
}
#endif
