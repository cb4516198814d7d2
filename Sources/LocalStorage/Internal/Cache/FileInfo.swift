internal import CLocalStorage
import Foundation
import Glibc

extension Engine {
    /// What is known of one stored file: one confined lookup, as `exists` makes.
    func info(_ target: Target) throws -> StoredFileInfo {
        let status: stat
        if target.context.isEmpty {
            status = try fileStatus(target.name, in: rootFD)
        } else {
            // O_PATH|O_NOFOLLOW opens a trailing symlink itself, which is then not a regular file.
            let fd = try openBeneath(target.relativePath, flags: CLocalStorage_O_PATH | O_NOFOLLOW)
            defer { closeDescriptor(fd) }
            status = try fileStatus(fd)
        }
        guard status.isRegularFile else { throw NotARegularFile() }
        return StoredFileInfo(name: target.name, status: status)
    }

    /// `info` of every file `list` lists, in the same order: one pass over the directory, one
    /// fstatat per file. A missing context has none.
    func infos(_ context: String) throws(SyscallError) -> [StoredFileInfo] {
        var infos: [StoredFileInfo] = []
        try forEachListedEntry(in: context) { entry, name, directory throws(SyscallError) in
            let status: stat
            do throws(SyscallError) {
                status = try fileStatus(entry.name, in: directory)
            } catch  where error.errno == .noSuchFile {
                return  // removed since getdents
            }
            if status.isRegularFile { infos.append(StoredFileInfo(name: name, status: status)) }
        }
        infos.sort { $0.name < $1.name }
        return infos
    }
}

extension Engine {
    /// The size of `name` in `directory` if it is a regular file, for the usage counter.
    func sizeIfRegular(_ name: String, in directory: CInt) -> Int64? {
        let status: stat
        do {
            status = try fileStatus(name, in: directory)
        } catch {
            return nil
        }
        return status.isRegularFile ? Int64(status.st_size) : nil
    }
}

extension StoredFileInfo {
    /// The description of a stored file from its status: last used is the later of its atime
    /// (set explicitly by reads of a storage with limits) and its mtime.
    init(name: String, status: stat) {
        let modified = nanoseconds(status.st_mtim)
        let used = max(modified, nanoseconds(status.st_atim))
        self.init(
            name: name, size: Int64(status.st_size), modificationDate: date(nanoseconds: modified), lastUsedDate: date(nanoseconds: used))
    }
}

/// A timespec as one number, for ordering.
func nanoseconds(_ time: timespec) -> Int64 {
    Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

/// Nanoseconds since the epoch as a Date.
private func date(nanoseconds: Int64) -> Date {
    let seconds = nanoseconds / 1_000_000_000
    let fraction = nanoseconds % 1_000_000_000
    return Date(timeIntervalSince1970: Double(seconds) + Double(fraction) / 1e9)
}
