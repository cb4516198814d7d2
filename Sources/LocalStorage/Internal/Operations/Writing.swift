internal import CLocalStorage
import Glibc

extension Engine {
    /// Stores bytes from memory.
    func upload(_ bytes: UnsafeRawBufferPointer, as target: Target) throws {
        try store(target) { temp in
            try preallocate(&temp, size: bytes.count)
            if let base = bytes.baseAddress { try writeAll(temp.fd, base, bytes.count) }
        }
    }

    /// Stores everything from a caller's descriptor (file, pipe, socket) from its offset on.
    func upload(from source: Endpoint, as target: Target, direct: Bool) throws -> (bytes: Int, path: TransferPath) {
        try store(target) { temp in try ingest(from: source, into: &temp, direct: direct) }
    }

    /// Fills a temp file from `source`: a reflink of a whole file where possible, else the copy
    /// engine, with the known remaining size preallocated (and trimmed at the commit if the
    /// source turns out shorter).
    private func ingest(from source: Endpoint, into temp: inout TempFile, direct: Bool) throws -> (bytes: Int, path: TransferPath) {
        let destination = Endpoint(fd: temp.fd, regularFileOn: rootDevice)
        if source.status.isRegularFile {
            let offset = try retrying(.lseek) { system_lseek(source.fd, 0, SEEK_CUR) }
            let remaining = max(0, Int(source.status.st_size) - Int(offset))
            if try direct && offset == 0 && remaining > 0 && reflink(from: source, to: destination) {
                _ = try retrying(.lseek) { system_lseek(source.fd, 0, SEEK_END) }
                return (remaining, .reflink)
            }
            try preallocate(&temp, size: remaining)
        }
        return try transfer(from: source, to: destination, direct: direct)
    }

    /// Removes a stored file (with `.fullSync`, fsyncing its directory after).
    func delete(_ target: Target) throws {
        let directory = try openContext(target.context, create: false)
        defer { directory.close() }
        let fd = directory.fd
        let name = target.name
        let size = limitKeeper == nil ? nil : sizeIfRegular(name, in: fd)
        // EISDIR (a directory of that name) maps to `.notARegularFile`.
        try withCString(name) { name throws(SyscallError) in
            _ = try retrying(.unlinkat) { system_unlinkat(fd, name, 0) }
        }
        if let size { accountRemoved(size: size) }
        try syncDirectoryEntry(directory.fd)
    }

    /// Writes a stored file's content to a caller's descriptor at its offset: exactly the size
    /// the stored version had when it was opened (so an export into the stored file itself
    /// ends).
    func export(_ target: Target, to destination: Endpoint) throws -> (bytes: Int, path: TransferPath) {
        let file = try openStored(target)
        defer { closeDescriptor(file.fd) }
        let size = Int(file.status.st_size)
        if size >= preallocationThreshold {
            _ = system_fadvise(file.fd, 0, 0, CLocalStorage_POSIX_FADV_SEQUENTIAL)
        }
        return try transfer(from: Endpoint(fd: file.fd, status: file.status), to: destination, direct: true, limit: size)
    }

}
