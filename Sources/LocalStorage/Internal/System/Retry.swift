import Glibc

// The one retry policy of the engine. Every syscall that can fail goes through `retrying`:
// EINTR is retried at once, always (a signal says nothing about the call); EAGAIN is waited out
// with poll where the descriptor is the caller's and may be non-blocking; anything else is
// thrown as a `SyscallError`. `close` never comes here: it is not retried (see
// `closeDescriptor`). Call sites that fall back on some errnos catch them from `retrying`.

/// Runs a raw call until it returns something other than a failure (`failed`), retrying EINTR
/// and, for the descriptors named in `readable`/`writable` (-1: none), waiting with poll for
/// EAGAIN/EWOULDBLOCK to pass.
@inline(__always)
func retrying<T>(
    _ syscall: Syscall, readable: CInt = -1, writable: CInt = -1, failedIf failed: (T) -> Bool, _ body: () -> T
) throws(SyscallError) -> T {
    while true {
        let result = body()
        if !failed(result) { return result }
        let errno = Errno.current
        if errno == .interrupted { continue }
        if errno == .tryAgain && (readable >= 0 || writable >= 0) {
            try waitUntilReady(readable: readable, writable: writable)
            continue
        }
        throw SyscallError(syscall: syscall, errno: errno)
    }
}

/// `retrying` for the usual calls that return -1 on failure.
@inline(__always)
func retrying<T: FixedWidthInteger>(
    _ syscall: Syscall, readable: CInt = -1, writable: CInt = -1, _ body: () -> T
) throws(SyscallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let errno = Errno.current
        if errno == .interrupted { continue }
        if errno == .tryAgain && (readable >= 0 || writable >= 0) {
            try waitUntilReady(readable: readable, writable: writable)
            continue
        }
        throw SyscallError(syscall: syscall, errno: errno)
    }
}

/// Blocks until `readable` has data (or an end or error to report) and `writable` has room:
/// a caller's non-blocking pipe, socket or FIFO said EAGAIN. Waiting on each in turn (rather
/// than on either) keeps a splice between two such descriptors from spinning.
func waitUntilReady(readable: CInt, writable: CInt) throws(SyscallError) {
    if readable >= 0 { _ = try retrying(.poll) { system_poll(readable, CShort(POLLIN)) } }
    if writable >= 0 { _ = try retrying(.poll) { system_poll(writable, CShort(POLLOUT)) } }
}

/// Closes a descriptor once (EINTR is not retried: the descriptor is gone either way) and
/// returns the error the kernel reported, which matters only for files just written.
@discardableResult
func closeDescriptor(_ fd: CInt) -> SyscallError? {
    system_close(fd) == 0 ? nil : SyscallError(syscall: .close, errno: Errno.current)
}
