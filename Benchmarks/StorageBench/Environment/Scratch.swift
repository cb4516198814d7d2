#if Benchmark
import CLocalStorage
import Dispatch
import Foundation
import Glibc

/// A failure the user can act on (unwritable directory, full disk, bad input); ArgumentParser
/// prints it as `Error: <message>` and the process exits non-zero.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) { description = message }
}

/// The directory a run works in: `bench-scratch-<pid>` created under `--dir` (default: the
/// current directory) and removed at the end, also on SIGINT and SIGTERM.
final class ScratchDirectory: Sendable {
    /// Absolute path of the scratch directory.
    let path: String
    /// Absolute path of the directory it was created in.
    let parent: String
    /// Held open for syncfs(2).
    private let fd: CInt

    /// Creates the scratch directory, checking first that `parent` is a writable directory and
    /// then that a file can really be written and fsynced in it.
    init(under parentPath: String) throws {
        let parent = try ScratchDirectory.absolute(parentPath)
        var status = stat()
        if stat(parent, &status) != 0 {
            throw BenchError("--dir \(parent) cannot be used: \(errnoDescription(errno))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw BenchError("--dir \(parent) is not a directory")
        }
        var path = parent + "/bench-scratch-\(getpid())"
        var attempt = 0
        while mkdir(path, 0o755) != 0 {
            let code = errno
            if code == EEXIST && attempt < 100 {
                attempt += 1
                path = parent + "/bench-scratch-\(getpid())-\(attempt)"
                continue
            }
            throw BenchError(
                "the directory \(parent) is not writable: cannot create \(path): \(errnoDescription(code)). "
                    + "Run from a writable directory or pass --dir PATH.")
        }
        self.parent = parent
        self.path = path
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            rmdir(path)
            throw BenchError("cannot open the scratch directory \(path): \(errnoDescription(code))")
        }
        self.fd = fd
        do {
            try probeWrite()
        } catch {
            remove()
            throw error
        }
    }

    deinit { close(fd) }

    /// Writes, fsyncs and deletes one small file: some file systems accept mkdir but refuse
    /// data (read-only bind mounts of a subtree, quota exhausted).
    private func probeWrite() throws {
        let probe = path + "/.write-probe"
        let file = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard file >= 0 else {
            throw BenchError("the directory \(parent) is not writable: \(errnoDescription(errno))")
        }
        defer { close(file); unlink(probe) }
        var block = [UInt8](repeating: 0x5a, count: 4096)
        let written = block.withUnsafeMutableBytes { write(file, $0.baseAddress, $0.count) }
        if written != 4096 || fsync(file) != 0 {
            throw BenchError("cannot write to \(parent): \(errnoDescription(errno))")
        }
    }

    /// Free bytes and inodes for an unprivileged user on the scratch file system.
    func freeSpace() -> (bytes: UInt64, inodes: UInt64)? {
        var info = statvfs()
        guard fstatvfs(fd, &info) == 0 else { return nil }
        return (UInt64(info.f_bavail) * UInt64(info.f_frsize), UInt64(info.f_favail))
    }

    /// syncfs(2) on the scratch file system (sync(2) if libc lacks it).
    func syncFileSystem() {
        if let syncfs = ScratchDirectory.syncfs { _ = syncfs(fd) } else { sync() }
    }

    /// Glibc declares syncfs only under _GNU_SOURCE, which the Swift Glibc module does not
    /// define; look the symbol up instead.
    private static let syncfs: (@convention(c) (CInt) -> CInt)? = dlsym(nil, "syncfs").map {
        unsafeBitCast($0, to: (@convention(c) (CInt) -> CInt).self)
    }

    /// Removes the scratch directory and everything in it; reports but survives failures.
    func remove() {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            FileHandle.standardError.write(Data("warning: could not remove \(path): \(error.localizedDescription)\n".utf8))
        }
    }

    /// Removes the scratch directory if the run is interrupted (SIGINT, SIGTERM), then exits
    /// with the conventional 128 + signal status. Returns the sources, which must stay alive.
    func removeOnInterrupt() -> [DispatchSourceSignal] {
        let path = self.path
        return [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("\ninterrupted: removing \(path)\n".utf8))
                try? FileManager.default.removeItem(atPath: path)
                exit(128 + signalNumber)
            }
            source.resume()
            return source
        }
    }

    /// The absolute, `..`-free form of a path (relative paths resolve against the current
    /// directory).
    static func absolute(_ path: String) throws -> String {
        guard !path.isEmpty else { throw BenchError("--dir must not be empty") }
        // Relative paths resolve against the current directory; "." and ".." are folded.
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
#endif
