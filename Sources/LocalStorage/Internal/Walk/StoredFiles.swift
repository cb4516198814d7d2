import Glibc

/// One user file found by a walk of the root.
struct StoredEntry {
    /// The directory's path beneath the root, as bytes (`[]` is the root itself).
    var directory: [UInt8]
    /// The name, NUL-terminated (names made by other programs need not be UTF-8).
    var cName: [CChar]
    var inode: UInt64
    var size: Int64
    var modified: timespec
    /// The atime: set explicitly by reads of a storage with limits.
    var used: timespec

    /// When it was last stored or read (nanoseconds since the epoch): the later of its atime
    /// and mtime, as `StoredFileInfo.lastUsedDate` says.
    var lastUsed: Int64 { max(nanoseconds(modified), nanoseconds(used)) }
}

extension Engine {
    /// Calls `body` with every user file under the root: regular files whose names do not start
    /// with the reserved `.ls-` (temp files, locks and the engine's own files are not user
    /// files). Directories are walked one at a time, by path beneath the root, as the orphan
    /// sweep does: two descriptors at most, names as bytes. A directory removed or replaced by
    /// something else meanwhile is skipped; any other failure to open one is thrown, so that
    /// totals are never silently short.
    func forEachStoredFile(_ body: (StoredEntry) throws -> Void) throws {
        var pending: [[UInt8]] = [[]]
        var files: [StoredEntry] = []
        while let path = pending.popLast() {
            let directory: CInt
            do throws(SyscallError) {
                directory = try openSweepDirectory(path)
            } catch {
                if path.isEmpty || !error.meansGoneOrReplaced { throw error }
                continue
            }
            defer { closeDescriptor(directory) }
            files.removeAll(keepingCapacity: true)
            try collectEntries(of: directory, at: path, files: &files, subdirectories: &pending)
            for file in files { try body(file) }
        }
    }

    /// The regular files and subdirectories of one open directory of the walk.
    private func collectEntries(
        of directory: CInt, at path: [UInt8], files: inout [StoredEntry], subdirectories: inout [[UInt8]]
    ) throws(SyscallError) {
        var found: [StoredEntry] = []
        var children: [[UInt8]] = []
        try forEachEntry(in: directory) { entry throws(SyscallError) in
            if entry.isDotOrDotDot || entry.hasPrefix(".ls-") { return }
            let type = entry.type
            if type != UInt8(DT_REG) && type != UInt8(DT_DIR) && type != UInt8(DT_UNKNOWN) { return }
            let status: stat
            do throws(SyscallError) {
                status = try fileStatus(entry.name, in: directory)
            } catch  where error.errno == .noSuchFile {
                return
            }
            if status.isDirectory {
                var child = path
                if !child.isEmpty { child.append(UInt8(ascii: "/")) }
                child.append(contentsOf: entry.bytes)
                children.append(child)
            } else if status.isRegularFile {
                var name = [CChar](repeating: 0, count: entry.length + 1)
                for index in 0..<entry.length { name[index] = entry.name[index] }
                found.append(
                    StoredEntry(
                        directory: path, cName: name, inode: UInt64(status.st_ino), size: Int64(status.st_size),
                        modified: status.st_mtim, used: status.st_atim))
            }
        }
        files.append(contentsOf: found)
        subdirectories.append(contentsOf: children)
    }

    /// The exact totals of user files, by a walk.
    func countUsage() throws -> StorageUsage {
        var usage = StorageUsage(files: 0, bytes: 0)
        try forEachStoredFile { entry in
            usage.files += 1
            usage.bytes += entry.size
        }
        return usage
    }
}

extension SyscallError {
    /// Whether a walk's directory was removed or replaced (by a file or a symlink) since the
    /// walk saw it.
    var meansGoneOrReplaced: Bool {
        errno == .noSuchFile || errno == .notDirectory || errno == .tooManySymbolicLinks
    }
}
