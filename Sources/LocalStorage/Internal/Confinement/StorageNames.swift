/// The name rules of `LocalStorage`, for the other backends of this package (S3Storage), so that
/// a name or context valid on one backend is valid on every other.
package enum StorageNames {
    /// The prefix of names the engines reserve for themselves (temp files, metadata, locks): no
    /// name or context component may start with it, and listings leave such names out.
    package static var reservedPrefix: String { reservedNamePrefix }

    /// Throws `.invalidName` unless `name` is a valid stored name.
    package static func validateFileName(_ name: String, operation: LocalStorageError.Operation) throws {
        if let problem = fileNameProblem(name) {
            throw LocalStorageError(invalid: problem, what: "file name", value: name, operation: operation)
        }
    }

    /// The components of a valid context (`[]` for the root), split on the `/` byte as the
    /// validation does; throws `.invalidName` for an invalid context.
    package static func contextComponents(_ context: String, operation: LocalStorageError.Operation) throws -> [Substring] {
        if let problem = contextProblem(context) {
            throw LocalStorageError(invalid: problem, context: context, operation: operation)
        }
        return context.utf8.split(separator: UInt8(ascii: "/")).map { Substring($0) }
    }

    /// Whether a name found in a listing is one a user could have stored (valid, not reserved).
    package static func isListable(_ name: String) -> Bool { fileNameProblem(name) == nil }
}
