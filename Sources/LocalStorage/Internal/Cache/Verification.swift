internal import CLocalStorage
import Glibc

// Checking a stored file as an object or array without knowing its type: the header is parsed
// and checked as every read does, and the payload's CRC-32C is computed piece by piece over one
// reused buffer, so memory stays bounded whatever the size.

extension Engine {
    /// What `target` holds: an intact object or array, a raw file, or a damaged object or array.
    ///
    /// A file is taken for an object or array when at least 6 of its first 8 bytes are the
    /// header's magic: a raw file matches it by chance with a probability of about 2^-45, while a
    /// header with a flipped byte in its magic still counts as a damaged object. The read does
    /// not mark the file used, and asks the kernel not to update its access time (O_NOATIME,
    /// where the caller owns the file), so a verification pass leaves the LRU order alone.
    ///
    /// - Throws: `SyscallError` when the file cannot be opened or read, `NotARegularFile`.
    func verifyObject(_ target: Target) throws -> ObjectVerification {
        let fd = try openBeneath(target.relativePath, flags: O_RDONLY | O_NONBLOCK | O_NOFOLLOW)
        defer { closeDescriptor(fd) }
        let status = try fileStatus(fd)
        guard status.isRegularFile else { throw NotARegularFile() }
        keepAccessTime(fd)
        let fileSize = Int(status.st_size)
        var headerBytes = [UInt8](repeating: 0, count: ObjectHeader.size)
        let got = try headerBytes.withUnsafeMutableBytes { buffer throws(SyscallError) in
            try preadFully(fd, buffer, at: 0)
        }
        guard startsLikeHeader(headerBytes[..<min(got, ObjectHeader.magic.count)]) else { return .notAnObject }
        let header: ObjectHeader
        do {
            header = try headerBytes.withUnsafeBytes { bytes in
                try ObjectHeader(parsing: UnsafeRawBufferPointer(rebasing: bytes[..<got]), fileSize: fileSize)
            }
        } catch let error as ObjectFormatError {
            return .corrupted(reason: error.message)
        }
        let payload = try checksumToEnd(fd, from: ObjectHeader.size)
        do throws(ObjectFormatError) {
            try header.verifyPayload(length: payload.length, checksum: payload.checksum)
        } catch {
            return .corrupted(reason: error.message)
        }
        return header.verification
    }

    /// The length and CRC-32C of everything from `offset` to the end of the file, read in
    /// 1 MiB pieces.
    private func checksumToEnd(_ fd: CInt, from offset: Int) throws(SyscallError) -> (length: Int, checksum: UInt32) {
        let capacity = bufferedChunk
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var length = 0
        var checksum: UInt32 = 0
        while true {
            let got = try preadFully(fd, buffer, at: offset + length)
            if got == 0 { break }
            checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[..<got]), continuing: checksum)
            length += got
            if got < capacity { break }
        }
        return (length, checksum)
    }

    /// Sets O_NOATIME on a descriptor, best effort: the kernel allows it only to the file's
    /// owner (EPERM otherwise, which leaves the access time to the mount's policy).
    private func keepAccessTime(_ fd: CInt) {
        guard let flags = try? retrying(.fcntl, { system_fcntl(fd, F_GETFL, 0) }) else { return }
        _ = try? retrying(.fcntl) { system_fcntl(fd, F_SETFL, flags | CLocalStorage_O_NOATIME) }
    }
}

/// Whether the first bytes of a file (up to 8) are close enough to the header's magic for the
/// file to be an object or array, damaged or not: at least 6 of them match.
private func startsLikeHeader(_ prefix: ArraySlice<UInt8>) -> Bool {
    var matching = 0
    for (byte, expected) in zip(prefix, ObjectHeader.magic) where byte == expected { matching += 1 }
    return matching >= 6
}

extension ObjectHeader {
    /// The verification result for an intact file with this header.
    var verification: ObjectVerification {
        switch kind {
        case .object:
            return .object(encoding: encoding == .json ? .json : .binary, payloadBytes: Int64(clamping: payloadLength))
        case .array:
            return .array(
                StoredArrayLayout(
                    elementCount: Int64(clamping: elementCount), elementSize: Int(element.size),
                    elementStride: Int(element.stride), elementAlignment: Int(element.alignment),
                    isLittleEndian: encoding == .rawLittleEndian, elementTypeHash: element.identity))
        }
    }
}
