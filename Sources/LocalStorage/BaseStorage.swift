import Foundation

/// The storage interface of the pipeline framework this package mirrors: named files, grouped
/// in contexts (subdirectories), stored and retrieved whole or streamed.
///
/// Two backends conform: `LocalStorage` (a directory) and `S3Storage` (an S3 bucket, behind the
/// package trait `S3`). Names and contexts follow the same rules in both, and both throw
/// ``LocalStorageError`` with the same codes where the failures mean the same. Code written
/// against `BaseStorage` runs unchanged on either.
///
/// The requirements are synchronous. A remote backend blocks the calling thread for the network
/// round trips (never on the Swift concurrency pool's own work); ``AsyncBaseStorage`` has the
/// async counterparts.
public protocol BaseStorage: AnyObject, Sendable {
    /// The location of the storage root, without a trailing slash: an absolute path for
    /// `LocalStorage`, `s3://bucket/prefix` for `S3Storage`.
    /// - Returns: The root's location.
    func getRootPath() -> String
    /// Stores `file` (its UTF-8 bytes) as `fileName` in `context`; returns the stored name.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under.
    ///   - context: The context (subdirectory path); `""` is the root.
    ///   - directStream: Whether to stream rather than copy, where the content allows it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``.
    @discardableResult func uploadFile(file: String, fileName: String, context: String, directStream: Bool) throws -> String
    /// Stores `file` as `fileName` in `context`; returns the stored name.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under.
    ///   - context: The context; `""` is the root.
    ///   - directStream: Whether to stream rather than copy, where the content allows it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``.
    @discardableResult func uploadFile(file: Data, fileName: String, context: String, directStream: Bool) throws -> String
    /// Stores everything from the handle's current offset to its end as `fileName` in `context`,
    /// with memory bounded whatever the size; returns the stored name.
    /// - Parameters:
    ///   - file: The source, read from its current offset to its end.
    ///   - fileName: The name to store it under.
    ///   - context: The context; `""` is the root.
    ///   - directStream: Move the bytes from the descriptor without an in-memory copy of the
    ///     file, where the backend and the source allow it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/sourceUnreadable`` if the
    ///   handle cannot be read.
    @discardableResult func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool) throws -> String
    /// The complete content of a stored file.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func downloadFile(_ fileName: String, context: String) throws -> Data
    /// Writes a stored file to `destination` at its current offset.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    ///   - destination: Where to write; its offset ends after the bytes written.
    /// - Returns: The bytes written.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file and ``LocalStorageError/Code/destinationUnwritable`` if the handle cannot be
    ///   written.
    func downloadFile(_ fileName: String, context: String, to destination: FileHandle) throws -> Int
    /// A handle open for reading at offset 0 on a stored file; the caller closes it.
    /// - Parameters:
    ///   - hashcode: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The handle.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func getFileByHashcode(_ hashcode: String, context: String) throws -> FileHandle
    /// Whether a file of that name is stored in `context`.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: Whether it exists; false for a missing context.
    /// - Throws: ``LocalStorageError`` when the lookup itself fails.
    func checkIfExists(_ fileName: String, context: String) throws -> Bool
    /// The size and dates of a stored file, without reading it.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: Its name, size and dates.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func fileInfo(_ fileName: String, context: String) throws -> StoredFileInfo
    /// The names of the files stored in `context` itself (not in its sub-contexts), sorted by
    /// their UTF-8 bytes.
    /// - Parameter context: The context; `""` is the root.
    /// - Returns: The names; `[]` for a missing context.
    /// - Throws: ``LocalStorageError``.
    func listStoredFiles(_ context: String) throws -> [String]
    /// Removes a stored file.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func deleteFile(_ fileName: String, context: String) throws
}

/// The async counterparts of ``BaseStorage``: the same operations, suspending instead of
/// blocking a thread. Each has the semantics, errors and documentation of its synchronous
/// counterpart.
///
/// `LocalStorage` conforms (its async overloads run their syscalls on the library's I/O pool),
/// and so does `S3Storage`.
public protocol AsyncBaseStorage: AnyObject, Sendable {
    /// Stores `file` (its UTF-8 bytes) as `fileName` in `context`; returns the stored name.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under.
    ///   - context: The context; `""` is the root.
    ///   - directStream: Whether to stream rather than copy, where the content allows it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``.
    @discardableResult func uploadFile(file: String, fileName: String, context: String, directStream: Bool) async throws -> String
    /// Stores `file` as `fileName` in `context`; returns the stored name.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under.
    ///   - context: The context; `""` is the root.
    ///   - directStream: Whether to stream rather than copy, where the content allows it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``.
    @discardableResult func uploadFile(file: Data, fileName: String, context: String, directStream: Bool) async throws -> String
    /// Stores everything from the handle's current offset to its end as `fileName` in `context`.
    /// - Parameters:
    ///   - file: The source, read from its current offset to its end.
    ///   - fileName: The name to store it under.
    ///   - context: The context; `""` is the root.
    ///   - directStream: Move the bytes from the descriptor without an in-memory copy of the
    ///     file, where the backend and the source allow it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``.
    @discardableResult func uploadFile(file: FileHandle, fileName: String, context: String, directStream: Bool) async throws -> String
    /// The complete content of a stored file.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func downloadFile(_ fileName: String, context: String) async throws -> Data
    /// Writes a stored file to `destination` at its current offset.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    ///   - destination: Where to write; its offset ends after the bytes written.
    /// - Returns: The bytes written.
    /// - Throws: ``LocalStorageError``.
    func downloadFile(_ fileName: String, context: String, to destination: FileHandle) async throws -> Int
    /// A handle open for reading at offset 0 on a stored file; the caller closes it.
    /// - Parameters:
    ///   - hashcode: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The handle.
    /// - Throws: ``LocalStorageError``.
    func getFileByHashcode(_ hashcode: String, context: String) async throws -> FileHandle
    /// Whether a file of that name is stored in `context`.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: Whether it exists.
    /// - Throws: ``LocalStorageError`` when the lookup itself fails.
    func checkIfExists(_ fileName: String, context: String) async throws -> Bool
    /// The size and dates of a stored file, without reading it.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: Its name, size and dates.
    /// - Throws: ``LocalStorageError``.
    func fileInfo(_ fileName: String, context: String) async throws -> StoredFileInfo
    /// The names of the files stored in `context` itself (not in its sub-contexts), sorted.
    /// - Parameter context: The context; `""` is the root.
    /// - Returns: The names.
    /// - Throws: ``LocalStorageError``.
    func listStoredFiles(_ context: String) async throws -> [String]
    /// Removes a stored file.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func deleteFile(_ fileName: String, context: String) async throws
}
