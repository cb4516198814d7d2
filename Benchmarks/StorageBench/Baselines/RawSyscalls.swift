#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage

/// A syscall made by a raw loop failed.
struct RawFailure: Error, CustomStringConvertible {
    let call: String
    let code: CInt
    var description: String { "\(call): \(errnoDescription(code))" }
}

/// The raw-syscall baseline: the same work as the engine, written as the plainest loop directly
/// on the `CLocalStorage` shim, with the context directory held open by the caller (as a plain
/// program would open it once). No validation, no confinement checks, no preallocation, no
/// retries: it shows what the abstraction costs.
enum RawSyscalls {
    @inline(__always)
    static func check(_ result: Int, _ call: String) throws -> Int {
        if result < 0 { throw RawFailure(call: call, code: CLocalStorage_errno()) }
        return result
    }

    @inline(__always)
    static func check(_ result: CInt, _ call: String) throws {
        if result < 0 { throw RawFailure(call: call, code: CLocalStorage_errno()) }
    }

    /// A put: openat(temp, O_CREAT|O_EXCL), write everything, fsync (`.fileSync` and up), close,
    /// renameat over `name`, fsync of the directory (`.fullSync`).
    static func put(
        _ bytes: UnsafeRawBufferPointer, directory: CInt, temp: String, name: String, durability: Durability
    ) throws {
        let fd = CLocalStorage_openat(directory, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try check(fd, "openat")
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { break }
            let written = CLocalStorage_write(fd, base + done, bytes.count - done)
            if written <= 0 {
                let code = CLocalStorage_errno()
                _ = CLocalStorage_close(fd)
                throw RawFailure(call: "write", code: written == 0 ? ENOSPC : code)
            }
            done += written
        }
        try finish(fd, directory: directory, temp: temp, name: name, durability: durability)
    }

    /// An ingest: openat(temp), then copy_file_range until end of input (`direct`), or a read/
    /// write loop over one 1 MiB buffer, then the same fsync/close/renameat tail as `put`.
    static func ingest(
        from source: CInt, directory: CInt, temp: String, name: String, durability: Durability, direct: Bool
    ) throws {
        let fd = CLocalStorage_openat(directory, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try check(fd, "openat")
        do {
            if direct {
                while try check(CLocalStorage_copy_file_range(source, nil, fd, nil, 1 << 30, 0), "copy_file_range") > 0 {}
            } else {
                let chunk = 1 << 20
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
                defer { buffer.deallocate() }
                while true {
                    let got = try check(CLocalStorage_read(source, buffer, chunk), "read")
                    if got == 0 { break }
                    var done = 0
                    while done < got { done += try check(CLocalStorage_write(fd, buffer + done, got - done), "write") }
                }
            }
        } catch {
            _ = CLocalStorage_close(fd)
            throw error
        }
        try finish(fd, directory: directory, temp: temp, name: name, durability: durability)
    }

    private static func finish(_ fd: CInt, directory: CInt, temp: String, name: String, durability: Durability) throws {
        if durability >= .fileSync, CLocalStorage_fsync(fd) != 0 {
            let code = CLocalStorage_errno()
            _ = CLocalStorage_close(fd)
            throw RawFailure(call: "fsync", code: code)
        }
        try check(CLocalStorage_close(fd), "close")
        try check(CLocalStorage_renameat(directory, temp, directory, name), "renameat")
        if durability == .fullSync { try check(CLocalStorage_fsync(directory), "fsync(dir)") }
    }

    /// openat of a stored file for reading (the caller closes it).
    static func openForReading(directory: CInt, name: String) throws -> CInt {
        let fd = CLocalStorage_openat(directory, name, O_RDONLY | O_CLOEXEC, 0)
        try check(fd, "openat")
        return fd
    }

    /// A get: openat, fstat, one malloc of the file's size, read until full, close. The buffer
    /// becomes a `Data` without a copy, exactly as the engine hands it back.
    static func get(directory: CInt, name: String) throws -> Data {
        let fd = try openForReading(directory: directory, name: name)
        defer { _ = CLocalStorage_close(fd) }
        return try readWhole(fd)
    }

    /// A get that may miss: openat (ENOENT: nil), then what `get` does. One lookup, like the
    /// engine's `downloadFileIfExists`.
    static func getIfExists(directory: CInt, name: String) throws -> Data? {
        let fd = CLocalStorage_openat(directory, name, O_RDONLY | O_CLOEXEC, 0)
        if fd < 0 {
            let code = CLocalStorage_errno()
            if code == ENOENT { return nil }
            throw RawFailure(call: "openat", code: code)
        }
        defer { _ = CLocalStorage_close(fd) }
        return try readWhole(fd)
    }

    /// fstat, one malloc of the file's size, read until full; the buffer becomes a `Data`.
    private static func readWhole(_ fd: CInt) throws -> Data {
        var status = stat()
        try check(CLocalStorage_fstat(fd, &status), "fstat")
        let size = Int(status.st_size)
        guard size > 0, let buffer = malloc(size) else { return Data() }
        var done = 0
        while done < size {
            let got = CLocalStorage_read(fd, buffer + done, size - done)
            if got < 0 {
                free(buffer)
                throw RawFailure(call: "read", code: CLocalStorage_errno())
            }
            if got == 0 { break }
            done += got
        }
        return Data(bytesNoCopy: buffer, count: done, deallocator: .free)
    }

    /// The engine's confinement, as one call: openat2 of `path` (context/name) beneath `root`,
    /// refusing symlinks anywhere in it.
    static func openConfined(root: CInt, path: String, flags: CInt) -> CInt {
        CLocalStorage_openat2(
            root, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), 0,
            CLocalStorage_RESOLVE_BENEATH | CLocalStorage_RESOLVE_NO_SYMLINKS)
    }

    /// A confined existence check, the syscalls the engine makes: openat2(O_PATH | O_NOFOLLOW,
    /// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) of context/name from the root, fstat, close.
    static func confinedExists(root: CInt, path: String) -> Bool {
        let fd = openConfined(root: root, path: path, flags: CLocalStorage_O_PATH | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { _ = CLocalStorage_close(fd) }
        var status = stat()
        return CLocalStorage_fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }

    /// A confined get: openat2(O_RDONLY | O_NOFOLLOW, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) of
    /// context/name from the root, then what `get` does (fstat, malloc, read, close).
    static func confinedGet(root: CInt, path: String) throws -> Data {
        let fd = openConfined(root: root, path: path, flags: O_RDONLY | O_NOFOLLOW)
        try check(fd, "openat2")
        defer { _ = CLocalStorage_close(fd) }
        return try readWhole(fd)
    }

    /// An export to a file: openat the stored file, copy_file_range until end of input into
    /// `destination` (at its offset), close.
    static func exportToFile(directory: CInt, name: String, destination: CInt) throws {
        let fd = try openForReading(directory: directory, name: name)
        defer { _ = CLocalStorage_close(fd) }
        while try check(CLocalStorage_copy_file_range(fd, nil, destination, nil, 1 << 30, 0), "copy_file_range") > 0 {}
    }

    /// An export to a pipe: openat the stored file, splice until end of input into the pipe,
    /// close.
    static func exportToPipe(directory: CInt, name: String, pipe: CInt) throws {
        let fd = try openForReading(directory: directory, name: name)
        defer { _ = CLocalStorage_close(fd) }
        while try check(CLocalStorage_splice(fd, nil, pipe, nil, 1 << 30, 0), "splice") > 0 {}
    }

    /// A mapped get: openat, fstat, mmap(PROT_READ, MAP_PRIVATE) of the whole file, close. The
    /// mapping becomes a `Data` that unmaps when released, as the engine's does.
    static func mappedGet(directory: CInt, name: String) throws -> Data {
        let fd = try openForReading(directory: directory, name: name)
        defer { _ = CLocalStorage_close(fd) }
        var status = stat()
        try check(CLocalStorage_fstat(fd, &status), "fstat")
        let size = Int(status.st_size)
        guard size > 0 else { return Data() }
        guard let address = CLocalStorage_mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
            address != CLocalStorage_MAP_FAILED()
        else { throw RawFailure(call: "mmap", code: CLocalStorage_errno()) }
        return Data(
            bytesNoCopy: address, count: size,
            deallocator: .custom { pointer, count in
                _ = CLocalStorage_munmap(pointer, count)
            })
    }

    /// A move-ingest: renameat of the source into the directory.
    static func move(from path: String, directory: CInt, name: String) throws {
        try check(CLocalStorage_renameat(AT_FDCWD, path, directory, name), "renameat")
    }

    /// Untimed: a fresh copy of `source` at `destination` (copy_file_range; replaces it).
    static func copyFile(_ source: String, to destination: String) throws {
        let input = CLocalStorage_openat(AT_FDCWD, source, O_RDONLY | O_CLOEXEC, 0)
        try check(input, "openat")
        defer { _ = CLocalStorage_close(input) }
        let output = CLocalStorage_openat(AT_FDCWD, destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try check(output, "openat")
        defer { _ = CLocalStorage_close(output) }
        while try check(CLocalStorage_copy_file_range(input, nil, output, nil, 1 << 30, 0), "copy_file_range") > 0 {}
    }

    /// An existence check: one fstatat without following symlinks, regular files only.
    static func exists(directory: CInt, name: String) -> Bool {
        var status = stat()
        return CLocalStorage_fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0
            && (status.st_mode & S_IFMT) == S_IFREG
    }

    /// A listing: a fresh descriptor on the directory, getdents64 into a 64 KiB buffer, the
    /// regular files' names as Strings, sorted (the same result the engine returns).
    static func list(directory: CInt) throws -> [String] {
        let fd = CLocalStorage_openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        try check(fd, "openat")
        defer { _ = CLocalStorage_close(fd) }
        let capacity = 64 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        var names: [String] = []
        while true {
            let filled = try check(CLocalStorage_getdents64(fd, buffer, capacity), "getdents64")
            if filled == 0 { break }
            var offset = 0
            while offset < filled {
                // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]
                let record = buffer + offset
                offset += Int(record.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                guard record.load(fromByteOffset: 18, as: UInt8.self) == UInt8(DT_REG) else { continue }
                names.append(String(cString: (record + 19).assumingMemoryBound(to: CChar.self)))
            }
        }
        return names.sorted()
    }

    /// A delete: unlinkat, then fsync of the directory at `.fullSync`.
    static func delete(directory: CInt, name: String, durability: Durability) throws {
        try check(CLocalStorage_unlinkat(directory, name, 0), "unlinkat")
        if durability == .fullSync { try check(CLocalStorage_fsync(directory), "fsync(dir)") }
    }

    /// Untimed housekeeping: unlink every name, ignoring the ones already gone.
    static func removeAll(directory: CInt, names: [String]) {
        for name in names { _ = CLocalStorage_unlinkat(directory, name, 0) }
    }

    /// Untimed fixture creation: empty files (a directory to list), created with openat and close.
    static func createEmptyFiles(directory: CInt, names: [String]) throws {
        for name in names {
            let fd = CLocalStorage_openat(directory, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            try check(fd, "openat")
            _ = CLocalStorage_close(fd)
        }
    }

    /// Untimed fixture creation: `count` files holding `bytes`, written by the raw put at
    /// `.noSync`, temp names derived from each name.
    static func createFiles(_ bytes: UnsafeRawBufferPointer, directory: CInt, names: [String]) throws {
        for name in names {
            try put(bytes, directory: directory, temp: ".raw-tmp-" + name, name: name, durability: .noSync)
        }
    }
}
#endif
