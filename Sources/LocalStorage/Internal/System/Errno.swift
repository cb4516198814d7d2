import Glibc

/// An error number as the kernel reported it. A struct rather than an enum, so values this file
/// does not name still survive intact.
struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    var rawValue: CInt
    init(rawValue: CInt) { self.rawValue = rawValue }

    static let interrupted = Errno(rawValue: EINTR)
    static let noSuchFile = Errno(rawValue: ENOENT)
    static let fileExists = Errno(rawValue: EEXIST)
    static let notDirectory = Errno(rawValue: ENOTDIR)
    static let isDirectory = Errno(rawValue: EISDIR)
    static let tooManySymbolicLinks = Errno(rawValue: ELOOP)
    static let crossDevice = Errno(rawValue: EXDEV)
    static let invalidArgument = Errno(rawValue: EINVAL)
    static let noSystemCall = Errno(rawValue: ENOSYS)
    static let notSupported = Errno(rawValue: EOPNOTSUPP)
    static let ioError = Errno(rawValue: EIO)
    static let noSpace = Errno(rawValue: ENOSPC)
    static let badFileDescriptor = Errno(rawValue: EBADF)
    static let tryAgain = Errno(rawValue: EAGAIN)
    static let notPermitted = Errno(rawValue: EPERM)

    /// The calling thread's errno, read right after a failing call.
    static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// True where the kernel says a syscall or this use of it is unsupported, so a slower path
    /// must take over.
    var meansUnsupported: Bool {
        self == .crossDevice || self == .invalidArgument || self == .noSystemCall
            || self == .notSupported || rawValue == ENOTTY
    }

    /// The symbolic name, e.g. "ENOSPC", for messages.
    var name: String {
        if let known = Errno.names[rawValue] { return known }
        return "errno \(rawValue)"
    }

    /// strerror's text, e.g. "No space left on device".
    var explanation: String { strerror(rawValue).map { String(cString: $0) } ?? "unknown error" }

    var description: String { "\(name) (\(explanation))" }

    private static let names: [CInt: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE",
        EMFILE: "EMFILE", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG", ENOSPC: "ENOSPC", ESPIPE: "ESPIPE",
        EROFS: "EROFS", EPIPE: "EPIPE", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS",
        ENOTEMPTY: "ENOTEMPTY", ELOOP: "ELOOP", EOPNOTSUPP: "EOPNOTSUPP", EDQUOT: "EDQUOT",
        EOVERFLOW: "EOVERFLOW", ENOTTY: "ENOTTY", ESTALE: "ESTALE",
    ]
}

/// A syscall that failed, with the errno it gave. Internal layers throw this; the public API
/// wraps it in a `LocalStorageError` that adds the operation and the path.
struct SyscallError: Error, Sendable {
    var syscall: Syscall
    var errno: Errno
}
