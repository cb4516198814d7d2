internal import CLocalStorage
import Glibc

/// One entry of a directory as getdents64 gives it: the name's bytes (valid only during the
/// callback) and the kernel's type, which is DT_UNKNOWN on file systems that do not record it.
struct DirectoryEntry {
    let name: UnsafePointer<CChar>
    let length: Int
    let type: UInt8

    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: length)
    }

    var isDotOrDotDot: Bool {
        let b = bytes
        return b[0] == UInt8(ascii: ".") && (length == 1 || (length == 2 && b[1] == UInt8(ascii: ".")))
    }

    /// Whether the name is valid UTF-8: ASCII checked byte by byte, anything else by the
    /// standard library's validation (non-generic, from the C string).
    var isValidUTF8: Bool {
        for byte in bytes where byte >= 0x80 {
            return String(validatingCString: name) != nil
        }
        return true
    }

    func hasPrefix(_ prefix: StaticString) -> Bool {
        length >= prefix.utf8CodeUnitCount
            && memcmp(name, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
    }

    /// The kernel's type, asked of fstatat when getdents64 did not say (DT_UNKNOWN); nil if
    /// the entry vanished meanwhile.
    func resolvedType(in directory: CInt) -> UInt8? {
        if type != UInt8(DT_UNKNOWN) { return type }
        guard let status = try? fileStatus(name, in: directory) else { return nil }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return UInt8(DT_REG)
        case S_IFDIR: return UInt8(DT_DIR)
        case S_IFLNK: return UInt8(DT_LNK)
        default: return UInt8(DT_UNKNOWN)
        }
    }
}

/// Calls `body` with each entry of an open directory, by bytes: names that are not valid
/// UTF-8 are entries like any other.
func forEachEntry(in directory: CInt, _ body: (DirectoryEntry) throws(SyscallError) -> Void) throws(SyscallError) {
    let capacity = 64 * 1024
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    defer { buffer.deallocate() }
    while true {
        let filled = try retrying(.getdents64) { system_getdents64(directory, buffer, capacity) }
        if filled == 0 { return }
        var offset = 0
        while offset < filled {
            let record = UnsafeRawPointer(buffer + offset)
            offset += Int(CLocalStorage_dirent_reclen(record))
            guard let name = CLocalStorage_dirent_name(record) else { continue }
            try body(DirectoryEntry(name: name, length: strlen(name), type: CLocalStorage_dirent_type(record)))
        }
    }
}
