import Glibc

/// The one error type the public API throws.
///
/// It says what failed (`code`), during which public operation, in which syscall, with which
/// errno, and on which path. Compare codes with `==`:
///
/// ```swift
/// do { _ = try storage.downloadFile("model.bin", context: "models") }
/// catch let error as LocalStorageError where error.code == .notFound { ... }
/// ```
public struct LocalStorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value that can grow new cases without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case notFound, invalidName, unsafePath, notARegularFile, notADirectory
            case permissionDenied, readOnlyFileSystem, noSpace, quotaExceeded, fileTooLarge
            case ioError, durabilityUnknown, tooManyOpenFiles, alreadyExists, sourceUnreadable
            case destinationUnwritable, closed
            case invalidArgument, corrupted, decodingFailed, timedOut, remote
            case systemError
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The file or context does not exist.
        public static let notFound = Code(.notFound)
        /// A name or context is empty, `.`, `..`, contains `/` or NUL, is longer than NAME_MAX,
        /// is absolute (contexts), or uses the reserved temp-file prefix (names). Raised before
        /// any syscall.
        public static let invalidName = Code(.invalidName)
        /// A symlink, or a path that would resolve outside the root, was met and refused.
        public static let unsafePath = Code(.unsafePath)
        /// The name exists but is not a regular file (a directory, say).
        public static let notARegularFile = Code(.notARegularFile)
        /// A context component exists but is not a directory.
        public static let notADirectory = Code(.notADirectory)
        /// EACCES or EPERM.
        public static let permissionDenied = Code(.permissionDenied)
        /// EROFS.
        public static let readOnlyFileSystem = Code(.readOnlyFileSystem)
        /// ENOSPC: the file system is full.
        public static let noSpace = Code(.noSpace)
        /// EDQUOT: the user's disk quota is exhausted.
        public static let quotaExceeded = Code(.quotaExceeded)
        /// EFBIG: the file would exceed a size limit (RLIMIT_FSIZE or the file system's).
        public static let fileTooLarge = Code(.fileTooLarge)
        /// EIO: the device reported an I/O error.
        public static let ioError = Code(.ioError)
        /// The new content was renamed into place, but fsync of its directory failed: the file
        /// is visible now, yet may not survive a power loss.
        public static let durabilityUnknown = Code(.durabilityUnknown)
        /// EMFILE or ENFILE.
        public static let tooManyOpenFiles = Code(.tooManyOpenFiles)
        /// The destination exists and the operation does not replace.
        public static let alreadyExists = Code(.alreadyExists)
        /// The caller's source (a FileHandle, a pipe) could not be read.
        public static let sourceUnreadable = Code(.sourceUnreadable)
        /// The caller's destination (a FileHandle, a pipe whose reader went away) cannot be
        /// written.
        public static let destinationUnwritable = Code(.destinationUnwritable)
        /// A writer or reader was used after its scope ended.
        public static let closed = Code(.closed)
        /// An argument is out of its range (a negative offset or count, say). Raised before any
        /// syscall.
        public static let invalidArgument = Code(.invalidArgument)
        /// A stored object or array failed its integrity checks: a checksum, header or length
        /// mismatch, or a file that was not written as an object (a raw upload) read as one.
        public static let corrupted = Code(.corrupted)
        /// A stored object or array is intact, but does not decode as the requested type or
        /// shape (another type, another element size).
        public static let decodingFailed = Code(.decodingFailed)
        /// A bounded wait (for a lock) ran out.
        public static let timedOut = Code(.timedOut)
        /// A remote store answered with an error that no other code describes.
        public static let remote = Code(.remote)
        /// Any other errno; see `LocalStorageError.errno`.
        public static let systemError = Code(.systemError)

        /// The code's name, such as `notFound`.
        public var description: String { kind.rawValue }
    }

    /// The public operation that failed.
    public struct Operation: Hashable, Sendable, CustomStringConvertible {
        /// The operation's name, as `description` shows it.
        public let name: String
        /// Other backends of this package (S3Storage) name their own operations.
        package init(_ name: String) { self.name = name }

        /// Opening the storage (`init`) or cleaning up orphaned temp files.
        public static let initialize = Operation("init")
        /// Any `uploadFile` from memory or a handle, and `withFileWriter`.
        public static let upload = Operation("upload")
        /// `downloadFile` to memory (plain or mapped) and `openReader`.
        public static let download = Operation("download")
        /// `getFileByHashcode`.
        public static let open = Operation("open")
        /// `checkIfExists`.
        public static let exists = Operation("exists")
        /// `listStoredFiles`.
        public static let list = Operation("list")
        /// `deleteFile`.
        public static let delete = Operation("delete")
        /// `uploadFile(movingFileAt:fileName:context:)`.
        public static let move = Operation("move")
        /// `downloadFile(_:context:to:)`.
        public static let export = Operation("export")
        /// `uploadObject`, `uploadArray`.
        public static let uploadObject = Operation("uploadObject")
        /// `downloadObject`, `downloadArray`.
        public static let downloadObject = Operation("downloadObject")
        /// `cachedObject`, `cachedData`.
        public static let cache = Operation("cache")
        /// `withLock`, `tryLock`, `StorageLock.unlock()`.
        public static let lock = Operation("lock")
        /// `fileInfo`, `listStoredFileInfo`, `usage`.
        public static let info = Operation("info")
        /// `prune`, and the automatic eviction of a storage with limits.
        public static let prune = Operation("prune")

        /// The operation's ``name``.
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// The public operation that failed.
    public var operation: Operation
    /// The syscall that failed (its man-page name), or nil when none was made (invalid names).
    public var syscall: String?
    /// The errno the syscall returned, or nil when no syscall failed.
    public var errno: CInt?
    /// The absolute path concerned, when there is one.
    public var path: String?
    /// A human-readable explanation.
    public var message: String
    /// The HTTP status a remote store answered with (S3Storage), or nil when no answer came or
    /// the failure was local.
    public var httpStatus: Int?
    /// The error code in a remote store's answer (S3's `<Code>`: `NoSuchKey`, `AccessDenied`,
    /// `SlowDown`...), when it gave one.
    public var remoteErrorCode: String?
    /// The request id a remote store gave the failed request (S3's `x-amz-request-id`), to find it
    /// in the server's logs.
    public var requestID: String?

    /// Creates an error; the engine builds these, callers mostly inspect them.
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - operation: The public operation that failed.
    ///   - syscall: The syscall that failed, or nil.
    ///   - errno: The errno it returned, or nil.
    ///   - path: The absolute path concerned, or nil.
    ///   - message: A human-readable explanation.
    ///   - httpStatus: The HTTP status a remote store answered with, or nil.
    ///   - remoteErrorCode: The error code in the remote store's answer, or nil.
    ///   - requestID: The remote store's id of the failed request, or nil.
    public init(
        code: Code, operation: Operation, syscall: String? = nil, errno: CInt? = nil,
        path: String? = nil, message: String,
        httpStatus: Int? = nil, remoteErrorCode: String? = nil, requestID: String? = nil
    ) {
        self.code = code
        self.operation = operation
        self.syscall = syscall
        self.errno = errno
        self.path = path
        self.message = message
        self.httpStatus = httpStatus
        self.remoteErrorCode = remoteErrorCode
        self.requestID = requestID
    }

    /// One line: the code, the operation, the path, the syscall and errno when there are, a
    /// remote store's status, error code and request id when there are, and the message.
    public var description: String {
        var text = "LocalStorageError.\(code) during \(operation)"
        if let path { text += " on '\(path)'" }
        if let syscall {
            text += ": \(syscall) failed"
            if let errno { text += " with \(Errno(rawValue: errno).name)" }
        }
        if httpStatus != nil || remoteErrorCode != nil || requestID != nil {
            let remote = [httpStatus.map { "HTTP \($0)" }, remoteErrorCode, requestID.map { "request id \($0)" }]
            text += " (" + remote.compactMap { $0 }.joined(separator: ", ") + ")"
        }
        return text + ": " + message
    }
}

extension LocalStorageError.Code {
    /// The code a failing syscall's errno maps to.
    init(mapping errno: Errno, from syscall: Syscall) {
        switch errno.rawValue {
        case ENOENT: self = .notFound
        case EACCES, EPERM: self = .permissionDenied
        case EROFS: self = .readOnlyFileSystem
        case ENOSPC: self = .noSpace
        case EDQUOT: self = .quotaExceeded
        case EFBIG: self = .fileTooLarge
        case EIO: self = .ioError
        case EMFILE, ENFILE: self = .tooManyOpenFiles
        case EEXIST: self = .alreadyExists
        case ENAMETOOLONG: self = .invalidName
        case ENOTDIR: self = .notADirectory
        // The engine's own descriptors are never bad: EBADF is about the caller's source handle.
        case EBADF: self = .sourceUnreadable
        case EISDIR: self = .notARegularFile
        // openat2 answers ELOOP for a symlink under RESOLVE_NO_SYMLINKS and EXDEV for an escape
        // under RESOLVE_BENEATH; O_NOFOLLOW answers ELOOP.
        case ELOOP: self = .unsafePath
        case EXDEV where syscall == .openat2: self = .unsafePath
        default: self = .systemError
        }
    }
}

extension LocalStorageError {
    init(_ failure: SyscallError, operation: Operation, path: String?, message: String? = nil) {
        self.init(
            code: Code(mapping: failure.errno, from: failure.syscall), operation: operation,
            syscall: failure.syscall.rawValue, errno: failure.errno.rawValue, path: path,
            message: message ?? failure.errno.explanation)
    }

    init(invalid problem: NameProblem, what: String, value: String, operation: Operation) {
        self.init(code: .invalidName, operation: operation, message: "\(what) '\(shown(value))' \(problem.explanation)")
    }

    init(invalid problem: ContextProblem, context: String, operation: Operation) {
        var message = "context '\(shown(context))' "
        if let (position, count) = problem.component {
            message += count == 1 ? "(one component) " : "component \(position) of \(count) "
        }
        self.init(code: .invalidName, operation: operation, message: message + problem.problem.explanation)
    }
}

/// A name or context as a message shows it: at most 80 characters.
private func shown(_ value: String) -> String {
    value.utf8.count > 80 ? String(value.prefix(80)) + "…" : value
}
