import Glibc

// The engine's one retry policy, lent to the other backends of this package (S3Storage), so the
// raw calls they make on descriptors (reads of a caller's source, writes to a caller's
// destination, their temporary files) retry exactly as the engine's own do.

/// A raw call made through `retryingBackendCall` failed with `errno` (that of the call, or of the
/// poll that waited for it). The caller names the call in its own error.
package struct BackendCallFailure: Error, Sendable {
    /// The errno.
    package let errno: CInt
}

/// Runs a raw call that returns -1 on failure under `retrying`: EINTR retried at once; EAGAIN
/// waited out with poll on `readable`/`writable` (a caller's non-blocking pipe or socket; -1:
/// none); any other failure thrown. Never for `close`, which is not retried.
package func retryingBackendCall<T: FixedWidthInteger>(
    readable: CInt = -1, writable: CInt = -1, _ body: () -> T
) throws(BackendCallFailure) -> T {
    do {
        // The Syscall label stays inside: only the errno leaves.
        return try retrying(writable >= 0 ? .write : .read, readable: readable, writable: writable, body)
    } catch {
        throw BackendCallFailure(errno: error.errno.rawValue)
    }
}
