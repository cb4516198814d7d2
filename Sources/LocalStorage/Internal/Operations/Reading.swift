internal import CLocalStorage
import Foundation
import Glibc

/// The name exists but is not a regular file (a directory, a FIFO planted under the name).
struct NotARegularFile: Error {}

/// An open stored file with its fstat.
struct StoredFile {
    let fd: CInt
    let status: stat
}

extension Engine {
    /// Opens a stored regular file for reading. O_NONBLOCK so that a FIFO planted under the
    /// name cannot block the open; it has no effect on regular files.
    func openStored(_ target: Target) throws -> StoredFile {
        try openStored(beneath: target.relativePath)
    }

    private func openStored(beneath path: String) throws -> StoredFile {
        let fd = try openBeneath(path, flags: O_RDONLY | O_NONBLOCK | O_NOFOLLOW)
        return try checkedStored(fd)
    }

    private func checkedStored(_ fd: CInt) throws -> StoredFile {
        let status: stat
        do { status = try fileStatus(fd) } catch { closeDescriptor(fd); throw error }
        guard status.isRegularFile else {
            closeDescriptor(fd)
            throw NotARegularFile()
        }
        // Every read of a stored file comes through here: with limits, it marks the file used.
        markUsed(fd)
        return StoredFile(fd: fd, status: status)
    }

    /// The whole content of a stored file.
    func download(_ target: Target) throws -> Data {
        let file = try openStored(target)
        defer { closeDescriptor(file.fd) }
        return try readRegularFile(file.fd, size: Int(file.status.st_size))
    }

    /// The content, or nil when there is no such file (no error is built on a miss).
    func downloadIfExists(_ target: Target) throws -> Data? {
        let file: StoredFile
        do {
            file = try openStored(target)
        } catch let error as SyscallError where error.errno == .noSuchFile || error.errno == .notDirectory {
            return nil
        }
        defer { closeDescriptor(file.fd) }
        return try readRegularFile(file.fd, size: Int(file.status.st_size))
    }

    /// The content of a stored file mapped read-only (private); empty files give empty Data.
    func downloadMapped(_ target: Target) throws -> Data {
        let file = try openStored(target)
        defer { closeDescriptor(file.fd) }  // the mapping outlives the descriptor
        let size = Int(file.status.st_size)
        if size == 0 { return Data() }
        let fd = file.fd
        guard let address = try retrying(.mmap, failedIf: { $0 == nil }, { system_mmap(size, fd) }) else {
            throw SyscallError(syscall: .mmap, errno: .invalidArgument)
        }
        return Data(
            bytesNoCopy: address, count: size,
            deallocator: .custom { pointer, count in
                _ = system_munmap(pointer, count)
            })
    }

    /// Whether a regular file of that name is stored: one confined lookup.
    func exists(_ target: Target) throws(SyscallError) -> Bool {
        do {
            if target.context.isEmpty {
                return try fileStatus(target.name, in: rootFD).isRegularFile
            }
            // O_PATH|O_NOFOLLOW opens a trailing symlink itself (not a file) instead of failing.
            let fd = try openBeneath(target.relativePath, flags: CLocalStorage_O_PATH | O_NOFOLLOW)
            defer { closeDescriptor(fd) }
            return try fileStatus(fd).isRegularFile
        } catch  where error.errno == .noSuchFile || error.errno == .notDirectory {
            return false
        }
    }

    /// The context's directory for a batch of lookups, or nil if it does not exist.
    private func openContextForLookups(_ context: String) throws(SyscallError) -> DirectoryHandle? {
        if context.isEmpty { return DirectoryHandle(fd: rootFD, owned: false) }
        do {
            return DirectoryHandle(fd: try openBeneath(context, flags: CLocalStorage_O_PATH | O_DIRECTORY), owned: true)
        } catch  where error.errno == .noSuchFile || error.errno == .notDirectory {
            return nil
        }
    }

    /// Whether each name is stored as a regular file, with one resolution of the context.
    func exist(_ names: [String], context: String) throws(SyscallError) -> [Bool] {
        guard let directory = try openContextForLookups(context) else { return Array(repeating: false, count: names.count) }
        defer { directory.close() }
        var result: [Bool] = []
        result.reserveCapacity(names.count)
        for name in names {
            do {
                result.append(try fileStatus(name, in: directory.fd).isRegularFile)
            } catch  where error.errno == .noSuchFile || error.errno == .notDirectory {
                result.append(false)
            }
        }
        return result
    }

    /// The content of each name, or nil where none is stored, with one resolution of the
    /// context. A name that is not a regular file counts as missing.
    func download(_ names: [String], context: String) throws -> [Data?] {
        guard let directory = try openContextForLookups(context) else { return Array(repeating: nil, count: names.count) }
        defer { directory.close() }
        var result: [Data?] = []
        result.reserveCapacity(names.count)
        for name in names {
            result.append(try downloadIfRegular(name, in: directory.fd))
        }
        return result
    }

    /// The content of `name` in `directory`, or nil if it is missing, a symlink or not a
    /// regular file.
    private func downloadIfRegular(_ name: String, in directory: CInt) throws -> Data? {
        guard let fd = try openIfPresent(name, in: directory), let file = try regularOrNil(fd) else { return nil }
        defer { closeDescriptor(file.fd) }
        return try readRegularFile(file.fd, size: Int(file.status.st_size))
    }

    /// `checkedStored`, with "not a regular file" as nil; a failing fstat still throws.
    private func regularOrNil(_ fd: CInt) throws -> StoredFile? {
        do {
            return try checkedStored(fd)
        } catch is NotARegularFile {
            return nil
        }
    }

    private func openIfPresent(_ name: String, in directory: CInt) throws(SyscallError) -> CInt? {
        do {
            return try retrying(.openat) { system_openat(directory, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0) }
        } catch  where error.errno == .noSuchFile || error.errno == .tooManySymbolicLinks {
            return nil
        }
    }

    /// The names of the regular files in a context, sorted; [] for a missing context. Temp
    /// files, the engine's own names and names that are not valid UTF-8 are left out.
    func list(_ context: String) throws(SyscallError) -> [String] {
        var names: [String] = []
        try forEachListedEntry(in: context) { entry, name, directory throws(SyscallError) in
            // DT_UNKNOWN: asked of fstatat (nil: removed since getdents).
            if entry.type == UInt8(DT_REG) {
                names.append(name)
            } else if try regularFileStatus(entry.name, in: directory) == true {
                names.append(name)
            }
        }
        return names.sorted()
    }

    /// The one scan behind `list` and `infos`: calls `body` with each entry of a context that
    /// may be a stored file (a regular file or a type the file system did not record, not one
    /// of the engine's `.ls-` names, a valid UTF-8 name), with that name and the directory's
    /// descriptor. A missing context has none.
    func forEachListedEntry(
        in context: String, _ body: (DirectoryEntry, String, CInt) throws(SyscallError) -> Void
    ) throws(SyscallError) {
        let fd: CInt
        do {
            fd = try openContextForReading(context)
        } catch  where error.errno == .noSuchFile {
            return
        }
        defer { closeDescriptor(fd) }
        try forEachEntry(in: fd) { entry throws(SyscallError) in
            if entry.hasPrefix(".ls-") { return }
            if entry.type != UInt8(DT_REG) && entry.type != UInt8(DT_UNKNOWN) { return }
            guard let name = String(validating: entry.bytes, as: UTF8.self) else { return }
            try body(entry, name, fd)
        }
    }

    /// Whether `name` in `directory` is a regular file; nil if it does not exist.
    private func regularFileStatus(_ name: UnsafePointer<CChar>, in directory: CInt) throws(SyscallError) -> Bool? {
        do {
            return try fileStatus(name, in: directory).isRegularFile
        } catch  where error.errno == .noSuchFile {
            return nil
        }
    }

    /// Opens a stored file for a chunked reader.
    func openReader(_ target: Target) throws -> StoredFile { try openStored(target) }
}
