import Glibc
import LocalStorage

/// The contexts under a root: `start` ("" for the root itself) and every directory beneath it,
/// as context paths ("a", "a/b"), sorted, `start` first. The engine's own `.ls-` entries,
/// symlinks (which the storage never follows) and names that are not valid UTF-8 (which no
/// context can name) are skipped.
///
/// - Parameter visit: Called with each context as it is found (for a progress count).
/// - Throws: `Failure` when a directory cannot be read (other than one removed meanwhile).
func walkContexts(root: String, from start: String = "", visit: (String) -> Void = { _ in }) throws -> [String] {
    var found: [String] = []
    var pending = [start]
    while let context = pending.popLast() {
        found.append(context)
        visit(context)
        let path = context.isEmpty ? root : root + "/" + context
        guard let directory = opendir(path) else {
            let code = errno
            if code == ENOENT && !context.isEmpty { continue }
            throw Failure(
                code == ENOENT ? .notFound : .failure,
                "\(path): cannot read the directory: \(String(cString: strerror(code)))")
        }
        defer { closedir(directory) }
        var children: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                let code = errno
                if code != 0 {
                    throw Failure(.failure, "\(path): cannot read the directory: \(String(cString: strerror(code)))")
                }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                let bytes = raw.prefix(while: { $0 != 0 })
                return String(validating: bytes, as: UTF8.self)
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
