import Glibc

/// A temp file that is empty and this young may belong to a writer between its open and its
/// flock; cleanup leaves it for the next time.
let orphanGraceSeconds = 2

extension Engine {
    /// Removes temp files left by writers that died, in every directory under the root.
    ///
    /// A live writer holds an exclusive flock on its temp file from (just after) creation until
    /// the file has its final name, and the kernel drops the lock when the writer dies. So a
    /// temp file whose lock can be taken without waiting belongs to nobody, unless it is empty
    /// and younger than `orphanGraceSeconds` (a writer could be between open and flock).
    /// Symlinks are never followed; only regular files with the reserved prefix are touched.
    /// - Returns: The number of files removed.
    func removeOrphanedTempFiles() throws(SyscallError) -> Int {
        var removed = 0
        var pending: [CInt] = [try retryingInterrupts(.openat) { system_openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }]
        defer { for fd in pending { closeDescriptor(fd) } }
        while let directory = pending.popLast() {
            defer { closeDescriptor(directory) }
            try forEachEntry(in: directory) { name, type in
                if type == UInt8(DT_DIR) {
                    if name == "." || name == ".." { return }
                    let fd = system_openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
                    if fd >= 0 { pending.append(fd) }
                } else if (type == UInt8(DT_REG) || type == UInt8(DT_UNKNOWN)) && name.hasPrefix(reservedTempPrefix) {
                    if removeIfOrphaned(name, in: directory) { removed += 1 }
                }
            }
        }
        return removed
    }

    private func removeIfOrphaned(_ name: String, in directory: CInt) -> Bool {
        let fd = system_openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0)
        guard fd >= 0 else { return false }
        defer { closeDescriptor(fd) }
        // EWOULDBLOCK: a live writer holds it.
        guard system_flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        var status = stat()
        guard system_fstat(fd, &status) == 0, status.isRegularFile else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if status.st_size == 0 && now.tv_sec - status.st_ctim.tv_sec < orphanGraceSeconds { return false }
        return system_unlinkat(directory, name, 0) == 0
    }

    /// Calls `body` with each entry's name and d_type; names that are not valid UTF-8 are
    /// skipped (the engine never creates such names).
    func forEachEntry(in directory: CInt, _ body: (String, UInt8) throws(SyscallError) -> Void) throws(SyscallError) {
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let filled = try retryingInterrupts(.getdents64) { system_getdents64(directory, buffer, capacity) }
            if filled == 0 { return }
            var offset = 0
            while offset < filled {
                // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]
                let record = buffer + offset
                let length = Int(record.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                let type = record.load(fromByteOffset: 18, as: UInt8.self)
                offset += length
                if let name = String(validatingCString: (record + 19).assumingMemoryBound(to: CChar.self)) {
                    try body(name, type)
                }
            }
        }
    }
}
