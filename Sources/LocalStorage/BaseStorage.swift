import Foundation

/// The storage interface of the pipeline framework this package mirrors: named files, grouped
/// in contexts (subdirectories), stored and retrieved whole.
public protocol BaseStorage: AnyObject, Sendable {
    /// The absolute path of the storage root, without a trailing slash.
    /// - Returns: The root's location.
    func getRootPath() -> String
    /// Stores `file` (its UTF-8 bytes) as `fileName` in `context`; returns the on-disk name.
    /// - Parameters:
    ///   - file: The content.
    ///   - fileName: The name to store it under.
    ///   - context: The context (subdirectory path); `""` is the root.
    ///   - directStream: Whether to stream rather than copy, where the content allows it.
    /// - Returns: The name the file is stored under.
    /// - Throws: ``LocalStorageError``.
    @discardableResult func uploadFile(file: String, fileName: String, context: String, directStream: Bool) throws -> String
    /// The complete content of a stored file.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The bytes.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func downloadFile(_ fileName: String, context: String) throws -> Data
    /// A handle open for reading at offset 0 on a stored file; the caller closes it.
    /// - Parameters:
    ///   - hashcode: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: The handle.
    /// - Throws: ``LocalStorageError``, with ``LocalStorageError/Code/notFound`` if there is no
    ///   such file.
    func getFileByHashcode(_ hashcode: String, context: String) throws -> FileHandle
    /// Whether a regular file of that name is stored in `context`.
    /// - Parameters:
    ///   - fileName: The stored name.
    ///   - context: The context; `""` is the root.
    /// - Returns: Whether it exists; false for a missing context.
    /// - Throws: ``LocalStorageError`` when the lookup itself fails.
    func checkIfExists(_ fileName: String, context: String) throws -> Bool
    /// The names of the regular files stored in `context`, sorted (by UTF-8 bytes, for
    /// ``LocalStorage``).
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
