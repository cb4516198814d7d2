import Foundation

/// The storage interface of the pipeline framework this package mirrors: named files, grouped
/// in contexts (subdirectories), stored and retrieved whole.
public protocol BaseStorage: AnyObject, Sendable {
    /// The absolute path of the storage root, without a trailing slash.
    func getRootPath() -> String
    /// Stores `file` (its UTF-8 bytes) as `fileName` in `context`; returns the on-disk name.
    @discardableResult func uploadFile(file: String, fileName: String, context: String, directStream: Bool) throws -> String
    /// The complete content of a stored file.
    func downloadFile(_ fileName: String, context: String) throws -> Data
    /// A handle open for reading at offset 0 on a stored file; the caller closes it.
    func getFileByHashcode(_ hashcode: String, context: String) throws -> FileHandle
    /// Whether a regular file of that name is stored in `context`.
    func checkIfExists(_ fileName: String, context: String) throws -> Bool
    /// The names of the regular files stored in `context`, sorted.
    func listStoredFiles(_ context: String) throws -> [String]
    /// Removes a stored file.
    func deleteFile(_ fileName: String, context: String) throws
}
