import Glibc
import LocalStorage

/// The contexts under a root: `start` ("" for the root itself) and every directory beneath it,
/// as context paths ("a", "a/b"), sorted, `start` first. The engine's own `.ls-` entries,
/// symlinks (which the storage never follows) and names that are not valid UTF-8 (which no
/// context can name) are skipped.
///
/// Each directory is opened from the root's descriptor one component at a time with
/// O_NOFOLLOW, so the walk never leaves the root, even when a directory is swapped for a
/// symlink while it runs; one removed or replaced meanwhile is skipped.
///
/// - Parameter visit: Called with each context as it is found (for a progress count).
/// - Throws: `Failure`: `.invalidInput` for a `start` with an empty, `.` or `..` component (the
///   library checks the rest when the context is listed); `.notFound` for a missing root;
///   `.failure` when a directory cannot be read.
func walkContexts(root: String, from start: String = "", visit: (String) -> Void = { _ in }) throws -> [String] {
    let components = start.split(separator: "/", omittingEmptySubsequences: false)
    if !start.isEmpty, let bad = components.first(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
        throw Failure(.invalidInput, "context '\(start)': a component is '\(bad)'")
    }
    let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard rootFD >= 0 else {
        let code = errno
        throw Failure(code == ENOENT ? .notFound : .failure, "\(root): cannot open the directory: \(String(cString: strerror(code)))")
    }
    defer { close(rootFD) }

    var found: [String] = []
    var pending = [start]
    while let context = pending.popLast() {
        found.append(context)
        visit(context)
        guard let directory = try openContext(context, in: rootFD, root: root) else { continue }
        defer { closedir(directory) }
        var children: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                let code = errno
                if code != 0 {
                    throw Failure(.failure, "\(root)/\(context): cannot read the directory: \(String(cString: strerror(code)))")
                }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                String(validating: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let name, name != ".", name != "..", !name.hasPrefix(".ls-") else { continue }
            let type = entry.pointee.d_type
            if type == UInt8(DT_DIR) {
                children.append(name)
            } else if type == UInt8(DT_UNKNOWN) {
                var status = stat()
                if fstatat(dirfd(directory), name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFDIR {
                    children.append(name)
                }
            }
        }
        // Pushed in reverse so that they come off the stack in order.
        for child in children.sorted().reversed() {
            pending.append(context.isEmpty ? child : context + "/" + child)
        }
    }
    return found
}

/// Opens a context's directory for reading, one component at a time from the root with
/// O_NOFOLLOW; nil when it is gone, or is not a directory (a file, a symlink).
private func openContext(_ context: String, in rootFD: CInt, root: String) throws -> OpaquePointer? {
    // fdopendir takes the descriptor over: the root's own stays open for the next context.
    var fd = openat(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw Failure(.failure, "\(root): cannot open the directory: \(String(cString: strerror(errno)))") }
    if !context.isEmpty {
        for component in context.split(separator: "/") {
            let next = openat(fd, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(fd)
            guard next >= 0 else {
                if code == ENOENT || code == ENOTDIR || code == ELOOP { return nil }
                throw Failure(.failure, "\(root)/\(context): cannot open the directory: \(String(cString: strerror(code)))")
            }
            fd = next
        }
    }
    guard let directory = fdopendir(fd) else {
        let code = errno
        close(fd)
        throw Failure(.failure, "\(root)/\(context): cannot read the directory: \(String(cString: strerror(code)))")
    }
    return directory
}

/// A stored file with the context it is in.
struct ContextFile {
    var context: String
    var info: StoredFileInfo

    /// "context/name", or "name" in the root.
    var path: String { context.isEmpty ? info.name : context + "/" + info.name }
}

/// Every stored file of `contexts`, with sizes and dates, counted into `counter` as found.
func storedFiles(in storage: LocalStorage, contexts: [String], counter: Counter? = nil) throws -> [ContextFile] {
    var files: [ContextFile] = []
    for context in contexts {
        for info in try storage.listStoredFileInfo(context) {
            files.append(ContextFile(context: context, info: info))
            counter?.add(1)
        }
    }
    return files
}
