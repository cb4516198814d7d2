import Foundation
import Glibc

// Objects and arrays on disk: a 64-byte self-describing header (Internal/Cache/ObjectHeader.swift)
// then the payload, written through the one commit sequence and checked on every read.

/// A stored object or array failed its checks; carries the format layer's error to the boundary.
struct ObjectFailure: Error {
    var failure: ObjectFormatError
}

extension Engine {
    /// Stores `header` then `payload` as one new version of `target`.
    func upload(header: [UInt8], payload: UnsafeRawBufferPointer, as target: Target) throws {
        try store(target) { temp in
            try preallocate(&temp, size: header.count + payload.count)
            let fd = temp.fd
            try header.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { try writeAll(fd, base, bytes.count) }
            }
            if let base = payload.baseAddress { try writeAll(fd, base, payload.count) }
        }
    }

    /// The value of an object file, or nil when `missingIsNil` and there is no such file.
    func downloadObject<T: Decodable>(_ type: T.Type, _ target: Target, missingIsNil: Bool) throws -> T? {
        let content: Data
        if missingIsNil {
            guard let found = try downloadIfExists(target) else { return nil }
            content = found
        } else {
            content = try download(target)
        }
        return try decodeObjectFile(type, content)
    }

    /// The elements of an array file, read straight into the array's storage (one pread for the
    /// header, one for the payload), its checksum verified before it is returned.
    func downloadArray<Element: BitwiseCopyable>(_ type: Element.Type, _ target: Target) throws -> [Element] {
        let file = try openStored(target)
        defer { closeDescriptor(file.fd) }
        let fileSize = Int(file.status.st_size)
        var headerBytes = [UInt8](repeating: 0, count: ObjectHeader.size)
        let got = try headerBytes.withUnsafeMutableBytes { buffer throws(SyscallError) in
            try preadFully(file.fd, buffer, at: 0)
        }
        let count: Int
        let header: ObjectHeader
        do {
            header = try headerBytes.withUnsafeBytes { bytes in
                try ObjectHeader(parsing: UnsafeRawBufferPointer(rebasing: bytes[..<got]), fileSize: fileSize)
            }
            count = try header.arrayCount(of: type)
        } catch let error as ObjectFormatError {
            throw ObjectFailure(failure: error)
        }
        let byteCount = count * MemoryLayout<Element>.stride
        var readFailure: SyscallError?
        var shortBy = 0
        let fd = file.fd
        let elements = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[..<byteCount])
            switch readPayload(fd, into: raw) {
            case .success(let read): shortBy = byteCount - read
            case .failure(let error): readFailure = error
            }
            initialized = count
        }
        if let readFailure { throw readFailure }
        do {
            if shortBy > 0 { try header.verifyPayload(length: byteCount - shortBy, checksum: 0) }
            try elements.withUnsafeBytes { bytes in try header.verifyPayload(bytes) }
        } catch let error as ObjectFormatError {
            throw ObjectFailure(failure: error)
        }
        return elements
    }
}

/// Reads an array's payload (after the header) into `buffer`; whatever a short read or a
/// failure leaves unread is zeroed, so the buffer is initialized in every case.
private func readPayload(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, SyscallError> {
    let result: Result<Int, SyscallError>
    do {
        result = .success(try preadFully(fd, buffer, at: ObjectHeader.size))
    } catch {
        result = .failure(error)
    }
    let read = (try? result.get()) ?? 0
    if read < buffer.count, let base = buffer.baseAddress { memset(base + read, 0, buffer.count - read) }
    return result
}

/// preads until `buffer` is full or the file ends; returns the bytes read.
func preadFully(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SyscallError) -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var done = 0
    while done < buffer.count {
        let chunk = min(buffer.count - done, maxTransferChunk)
        let got = try retrying(.pread) { system_pread(fd, base + done, chunk, off_t(offset + done)) }
        if got == 0 { break }
        done += got
    }
    return done
}

/// The value an object file holds: its header parsed, its checksum verified, its payload
/// decoded. Throws `ObjectFailure` for a damaged file or a payload of another type.
func decodeObjectFile<T: Decodable>(_ type: T.Type, _ content: Data) throws -> T {
    do {
        return try content.withUnsafeBytes { bytes in
            let header = try ObjectHeader(parsing: bytes, fileSize: bytes.count)
            let payload = UnsafeRawBufferPointer(rebasing: bytes[ObjectHeader.size...])
            try header.verifyPayload(payload)
            return try decodeObjectPayload(type, from: payload, encoding: try header.objectEncoding())
        }
    } catch let error as ObjectFormatError {
        throw ObjectFailure(failure: error)
    }
}
