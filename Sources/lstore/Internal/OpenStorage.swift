import Glibc
import LocalStorage

/// Opens the storage at `root` for a command.
///
/// Commands that only read (or remove) refuse a missing root rather than create it, so that a
/// typo does not leave an empty directory behind (`create: false`); `put`, `mv` and `lock`
/// create it like the library does. Temp files of dead writers are left to the library's own
/// cleanup: a command never walks the whole tree unless it was asked to.
func openStorage(_ root: String, create: Bool) throws -> LocalStorage {
    if !create {
        var status = stat()
        if stat(root, &status) != 0 {
            let code = errno
            throw Failure(code == ENOENT ? .notFound : .failure, "\(root): no storage here: \(String(cString: strerror(code)))")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw Failure(.invalidInput, "\(root): not a directory")
        }
    }
    do {
        return try LocalStorage(storagePath: root, removeOrphanedTempFiles: false)
    } catch let error as LocalStorageError {
        throw Failure(error)
    }
}

/// The context as the library names it: `.` (and `/`) are accepted for the root, `""`.
func normalizedContext(_ context: String) -> String {
    context == "." || context == "/" ? "" : context
}

/// "context/name", or "name" for the root context.
func displayPath(_ context: String, _ name: String) -> String {
    context.isEmpty ? name : context + "/" + name
}
