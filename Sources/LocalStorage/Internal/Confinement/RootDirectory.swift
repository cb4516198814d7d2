import Glibc

/// Opens the storage root, creating it like `mkdir -p` if missing. The path is handed to the
/// kernel as written, prefix by prefix, so `..` after a symlink means what it means to the
/// kernel (the parent of the link's target), never a textual shortening. With `sync`, the
/// parent of each directory created is fsynced.
func openRoot(_ path: String, sync: Bool) throws(SyscallError) -> CInt {
    // The first failure to create a missing directory explains a later "no such directory"
    // better than the ENOENT of the final open does.
    var creationFailure: SyscallError?
    var prefix = path.hasPrefix("/") ? "/" : ""
    var parent = path.hasPrefix("/") ? "/" : "."
    for component in path.utf8.split(separator: UInt8(ascii: "/")) {
        if prefix != "" && prefix != "/" { prefix += "/" }
        prefix += String(decoding: component, as: UTF8.self)
        let isDots = component.elementsEqual(".".utf8) || component.elementsEqual("..".utf8)
        if !isDots, let failure = try makeDirectory(prefix, syncing: sync ? parent : nil) {
            // EACCES, EROFS, ENOENT under a dangling link...: we may not create, but need not if
            // it exists; the final open decides.
            if creationFailure == nil { creationFailure = failure }
        }
        parent = prefix
    }
    do {
        return try retrying(.openat) { system_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
    } catch  where error.errno == .noSuchFile {
        throw creationFailure ?? error
    }
}

/// mkdir of one prefix of the root path (EEXIST is success), then with `syncing` an fsync of
/// the parent it was made in. Returns the mkdir failure, if any; throws a failed fsync.
private func makeDirectory(_ path: String, syncing parent: String?) throws(SyscallError) -> SyscallError? {
    do {
        _ = try retrying(.mkdirat) { system_mkdirat(AT_FDCWD, path, 0o755) }
    } catch {
        return error.errno == .fileExists ? nil : error
    }
    guard let parent, Mutation.active != .noParentFsync else { return nil }
    let parentFD = try retrying(.openat) { system_openat(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
    defer { closeDescriptor(parentFD) }
    _ = try retrying(.fsync) { system_fsync(parentFD) }
    return nil
}

/// The path the kernel resolved for an open directory (its /proc link), or nil if unreadable.
func canonicalPath(of fd: CInt) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
    guard length > 0, buffer[0] == CChar(UInt8(ascii: "/")) else { return nil }
    let bytes = buffer[..<length].map { UInt8(bitPattern: $0) }
    // A deleted directory reads "/path (deleted)": not a usable path.
    guard let text = String(validating: bytes, as: UTF8.self), !text.hasSuffix(" (deleted)") else { return nil }
    return text
}

/// The path made absolute against the working directory, without `.` and empty components:
/// only for display, when /proc cannot say.
func lexicallyAbsolute(_ path: String) -> String {
    var full = path
    if !path.hasPrefix("/"), let cwd = getcwd(nil, 0) {
        full = String(cString: cwd) + "/" + path
        free(cwd)
    }
    let parts = full.split(separator: "/").filter { $0 != "." }
    return "/" + parts.joined(separator: "/")
}
