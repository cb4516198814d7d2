import LocalStorage

/// The exit statuses of lstore, as `lstore --help` documents them. `lock` exits with its
/// command's status instead when it ran the command.
enum ExitStatus: Int32, CaseIterable, Sendable {
    case success = 0
    /// An I/O or other system failure (EIO, ENOSPC, a permission, a read-only file system...).
    case failure = 1
    /// The root, context, file or source named does not exist.
    case notFound = 2
    /// A name, context or path that the storage refuses (invalid characters, reserved prefix,
    /// a symlink, not a regular file, a directory given as the file).
    case invalidInput = 3
    /// `verify` found damaged objects or arrays (also when `--remove-corrupt` removed them).
    case corrupted = 4
    /// `lock --timeout` ran out before the lock was free.
    case timedOut = 5
    /// `lock`: the command was found but could not be run (POSIX shells say 126).
    case commandNotExecutable = 126
    /// `lock`: the command was not found (POSIX shells say 127).
    case commandNotFound = 127
    /// A usage error found by the argument parser (sysexits' EX_USAGE): an unknown option, a
    /// missing argument, a size or age that does not parse.
    case usage = 64
}

/// An error lstore reports as one line, `lstore: <message>`, and exits with `status`.
struct Failure: Error, CustomStringConvertible {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The report of a library error: the path it concerns and what went wrong, with the
    /// failing syscall when one failed.
    init(_ error: LocalStorageError) {
        status = ExitStatus(error.code)
        var text = ""
        if let path = error.path { text += path + ": " }
        text += error.message
        if let syscall = error.syscall, !error.message.contains(syscall) { text += " (\(syscall))" }
        message = text
    }

    var description: String { message }
}

extension ExitStatus {
    /// The status for a library error code.
    init(_ code: LocalStorageError.Code) {
        switch code {
        case .notFound: self = .notFound
        case .invalidName, .invalidArgument, .unsafePath, .notARegularFile, .notADirectory, .alreadyExists: self = .invalidInput
        case .corrupted, .decodingFailed: self = .corrupted
        case .timedOut: self = .timedOut
        default: self = .failure
        }
    }
}
