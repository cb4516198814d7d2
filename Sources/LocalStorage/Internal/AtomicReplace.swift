internal import CLocalStorage
import Glibc

/// The rename succeeded but what followed (fsync of the directory, closing the file) failed: the
/// new content is visible, its durability unknown. Mapped to `LocalStorageError.Code.durabilityUnknown`.
struct DirectorySyncFailed: Error {
    var failure: SyscallError
}

/// An open temp file being filled; `atomicReplace` commits or discards it.
struct TempFile {
    let fd: CInt
    let name: String
    let directory: CInt
}

extension Engine {
    /// Writes a complete new version of `name` in `directory` and renames it over the old one.
    ///
    /// The temp file gets an unpredictable reserved name (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600),
    /// `fill` writes the content, then: fchmod to the final mode, fsync (per durability), close,
    /// renameat, fsync of the directory (`.fullSync`). Any failure before the rename removes the
    /// temp file and leaves the old version untouched; a failed fsync is never followed by the
    /// rename.
    func atomicReplace<R>(
        in directory: CInt, name: String, fill: (TempFile) throws -> R
    ) throws -> R {
        let temp = try createTempFile(in: directory)
        var open = true
        do {
            let result = try fill(temp)
            if fileMode != 0o600 {
                _ = try retryingInterrupts(.fchmod) { system_fchmod(temp.fd, fileMode) }
            }
            if durability >= .fileSync {
                _ = try retryingInterrupts(.fsync) { system_fsync(temp.fd) }
            }
            // Renamed while still open, so the temp file's lock is held for as long as it has a
            // temp name: orphan cleanup never mistakes it for a dead writer's.
            _ = try retryingInterrupts(.renameat) { system_renameat(directory, temp.name, directory, name) }
            open = false
            // A close error here (a delayed write error on some file systems) comes after the
            // new content became visible: report it as such. EINTR is not one: the descriptor is
            // released all the same and an interrupted flush leaves the data to writeback.
            if let failure = closeDescriptor(temp.fd), failure.errno != .interrupted {
                throw DirectorySyncFailed(failure: failure)
            }
            if durability == .fullSync {
                do {
                    _ = try retryingInterrupts(.fsync) { system_fsync(directory) }
                } catch {
                    throw DirectorySyncFailed(failure: error)
                }
            }
            return result
        } catch let error as DirectorySyncFailed {
            throw error
        } catch {
            if open {
                _ = try? retryingInterrupts(.unlinkat) { system_unlinkat(directory, temp.name, 0) }
                closeDescriptor(temp.fd)
            }
            throw error
        }
    }

    /// Creates a temp file with a fresh random reserved name, retrying the (astronomically
    /// unlikely) collision, and locks it (flock, released by the kernel if this process dies)
    /// to tell orphan cleanup that a live writer owns it.
    func createTempFile(in directory: CInt) throws(SyscallError) -> TempFile {
        var attempts = 0
        while true {
            let name = makeTempName()
            let fd = system_openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 {
                do {
                    _ = try retryingInterrupts(.flock) { system_flock(fd, LOCK_EX) }
                } catch {
                    _ = try? retryingInterrupts(.unlinkat) { system_unlinkat(directory, name, 0) }
                    closeDescriptor(fd)
                    throw error
                }
                return TempFile(fd: fd, name: name, directory: directory)
            }
            let errno = Errno.current
            attempts += 1
            if (errno == .fileExists || errno == .interrupted) && attempts < 16 { continue }
            throw SyscallError(syscall: .openat, errno: errno)
        }
    }

    /// Reserves `size` bytes for a file about to be written, so a full disk fails before any
    /// copying and the file is laid out in few extents. File systems without fallocate are
    /// remembered and skipped; ENOSPC and friends are real errors.
    func preallocate(_ fd: CInt, size: Int) throws(SyscallError) {
        guard size >= preallocationThreshold, !support.isRefused(.fallocate, destination: rootDevice) else { return }
        while true {
            if system_fallocate(fd, CLocalStorage_FALLOC_FL_KEEP_SIZE, 0, off_t(size)) == 0 { return }
            let errno = Errno.current
            if errno == .interrupted { continue }
            if errno.meansUnsupported {
                support.noteRefusal(.fallocate, errno: errno, destination: rootDevice)
                return
            }
            throw SyscallError(syscall: .fallocate, errno: errno)
        }
    }
}

/// Below this, preallocation costs a syscall for nothing.
let preallocationThreshold = 1 << 20

/// `.ls-tmp-` followed by 16 hex digits from the system's CSPRNG.
func makeTempName() -> String {
    #if ENABLE_MOCKING
    if let forced = FaultInjector.current?.takeTempName() { return forced }
    #endif
    var generator = SystemRandomNumberGenerator()
    var value = generator.next() as UInt64
    let digits = Array("0123456789abcdef".utf8)
    var bytes = Array(reservedTempPrefix.utf8)
    bytes.reserveCapacity(bytes.count + 16)
    for _ in 0..<16 {
        bytes.append(digits[Int(value & 0xf)])
        value >>= 4
    }
    return String(decoding: bytes, as: UTF8.self)
}
