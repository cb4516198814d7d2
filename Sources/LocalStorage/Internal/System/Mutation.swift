import Glibc

/// Test-only mutations of the durability sequence, for the power-loss suite's mutation checks:
/// each removes one fsync, and the suite must then find a lost acknowledged write. Read from
/// `LOCALSTORAGE_TEST_MUTATE` (`no-file-fsync`, `no-directory-fsync`, `no-parent-fsync`) in
/// debug builds only; a release build has none.
enum Mutation: String, Sendable {
    /// No fsync of a new file's content before its rename.
    case noFileFsync = "no-file-fsync"
    /// No fsync of a directory after a rename or unlink in it.
    case noDirectoryFsync = "no-directory-fsync"
    /// No fsync of the parent of a directory just created.
    case noParentFsync = "no-parent-fsync"

    /// The mutation in force, if any.
    static var active: Mutation? {
        #if ENABLE_MOCKING
        fromEnvironment
        #else
        nil
        #endif
    }

    #if ENABLE_MOCKING
    private static let fromEnvironment: Mutation? = getenv("LOCALSTORAGE_TEST_MUTATE").flatMap {
        Mutation(rawValue: String(cString: $0))
    }
    #endif
}
