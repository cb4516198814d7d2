internal import CLocalStorage
import Glibc

/// Below this, preallocation costs a syscall for nothing.
let preallocationThreshold = 1 << 20

extension Engine {
    /// Reserves `size` bytes for a file about to be written, so a full disk fails before any
    /// copying and the file is laid out in few extents. File systems without fallocate are
    /// remembered and skipped; ENOSPC and friends are real errors.
    func preallocate(_ temp: inout TempFile, size: Int) throws(SyscallError) {
        guard size >= preallocationThreshold, !support.isRefused(.fallocate, destination: rootDevice) else { return }
        let fd = temp.fd
        do {
            _ = try retrying(.fallocate) { system_fallocate(fd, CLocalStorage_FALLOC_FL_KEEP_SIZE, 0, off_t(size)) }
            temp.reserved = size
        } catch  where error.errno.meansUnsupported {
            support.noteRefusal(.fallocate, errno: error.errno, destination: rootDevice)
        }
    }

    /// Gives back what was reserved past the end when the source turned out shorter (a file
    /// truncated while it was copied): truncating to the current size frees the blocks
    /// fallocate(KEEP_SIZE) placed beyond it.
    func trimReservation(_ temp: TempFile) throws(SyscallError) {
        guard temp.reserved > 0 else { return }
        let size = try fileStatus(temp.fd).st_size
        guard Int(size) < temp.reserved else { return }
        let fd = temp.fd
        _ = try retrying(.ftruncate) { system_ftruncate(fd, size) }
    }
}
