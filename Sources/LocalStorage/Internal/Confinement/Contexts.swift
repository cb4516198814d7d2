import Glibc

extension Engine {
    /// The directory of a context; `""` is the root itself. With `create`, missing directories
    /// are made (and with `.fullSync` each new one's parent fsynced).
    func openContext(_ context: String, create: Bool) throws(SyscallError) -> DirectoryHandle {
        if context.isEmpty { return DirectoryHandle(fd: rootFD, owned: false) }
        do {
            return DirectoryHandle(fd: try openBeneath(context, flags: directoryFlags), owned: true)
        } catch  where create && error.errno == .noSuchFile {
            // A directory made on the way can be removed before the next step reaches it (an
            // `rm -rf` racing the upload): start again, a bounded number of times.
            var attempts = 0
            while true {
                do {
                    return try createContext(context)
                } catch  where error.errno == .noSuchFile && attempts < contextRecreationAttempts {
                    attempts += 1
                }
            }
        }
    }

    /// A fresh descriptor for a context's directory, even for the root: directory reading moves
    /// the file offset, which must not be shared between threads.
    func openContextForReading(_ context: String) throws(SyscallError) -> CInt {
        if context.isEmpty {
            return try retrying(.openat) { system_openat(rootFD, ".", directoryFlags, 0) }
        }
        return try openBeneath(context, flags: directoryFlags)
    }

    /// Walks the context, making each missing directory. mkdirat of one component never follows
    /// a symlink, and each step is opened with O_NOFOLLOW, so a planted link stops the walk.
    private func createContext(_ context: String) throws(SyscallError) -> DirectoryHandle {
        var current = DirectoryHandle(fd: rootFD, owned: false)
        var success = false
        defer { if !success { current.close() } }
        // Split on the byte, as validation does.
        for component in context.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            let parent = current.fd
            let fd = try withCString(String(decoding: component, as: UTF8.self)) { name throws(SyscallError) in
                let created: Bool
                do throws(SyscallError) {
                    _ = try retrying(.mkdirat) { system_mkdirat(parent, name, 0o755) }
                    created = true
                } catch  where error.errno == .fileExists {
                    created = false
                }
                if created { try syncNewDirectoryParent(parent) }
                return try openDirectoryComponent(parent, name)
            }
            current.close()
            current = DirectoryHandle(fd: fd, owned: true)
        }
        success = true
        return current
    }
}
