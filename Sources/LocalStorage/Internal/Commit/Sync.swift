import Glibc

// The three fsyncs durability rests on, decided here and nowhere else.

/// The rename (or unlink) succeeded but what followed (fsync of the directory, closing the
/// file) failed: the change is visible, its durability unknown. Mapped to
/// `LocalStorageError.Code.durabilityUnknown`.
struct DurabilityUnknown: Error {
    var failure: SyscallError
}

extension Engine {
    /// fsync of a complete file before it is renamed into place (`.fileSync` and `.fullSync`).
    func syncFileContent(_ fd: CInt) throws(SyscallError) {
        guard durability >= .fileSync, Mutation.active != .noFileFsync else { return }
        _ = try retrying(.fsync) { system_fsync(fd) }
    }

    /// fsync of a directory after a rename or unlink in it (`.fullSync`).
    func syncDirectoryEntry(_ directory: CInt) throws(DurabilityUnknown) {
        guard durability == .fullSync, Mutation.active != .noDirectoryFsync else { return }
        do {
            _ = try retrying(.fsync) { system_fsync(directory) }
        } catch {
            throw DurabilityUnknown(failure: error)
        }
    }

    /// fsync of the parent of a directory just created (`.fullSync`), so the new directory
    /// survives a crash along with what is stored in it.
    func syncNewDirectoryParent(_ parent: CInt) throws(SyscallError) {
        guard durability == .fullSync, Mutation.active != .noParentFsync else { return }
        _ = try retrying(.fsync) { system_fsync(parent) }
    }
}
