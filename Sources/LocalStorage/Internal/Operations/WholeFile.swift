import Foundation
import Glibc

/// Reads up to `size` bytes of a regular file from its current offset into one malloc'd buffer
/// handed to Data without a copy (and without the zero-fill `Data(count:)` would do). Stored
/// files are replaced by rename, never rewritten in place, so the size fstat gave is the size of
/// the version this descriptor holds.
func readRegularFile(_ fd: CInt, size: Int) throws(SyscallError) -> Data {
    if size == 0 { return Data() }
    guard let buffer = malloc(size) else { throw SyscallError(syscall: .read, errno: Errno(rawValue: ENOMEM)) }
    let filled: Int
    do {
        filled = try readFully(fd, buffer, size)
    } catch {
        free(buffer)
        throw error
    }
    if filled == 0 {
        free(buffer)
        return Data()
    }
    return Data(bytesNoCopy: buffer, count: filled, deallocator: .free)
}
