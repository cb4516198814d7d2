/// How much an upload waits for the disk before it returns.
///
/// Every level is atomic: readers see the old content or the new, never a mix. The levels
/// differ in what survives a power loss or kernel crash right after the call returns.
public enum Durability: Sendable, Hashable, Comparable, CaseIterable {
    /// No fsync. Fastest; after a crash the file may hold its old content, the new content, or
    /// (on file systems without rename ordering) be empty.
    case noSync
    /// fsync of the temp file before the rename: after a crash the name holds the old or the
    /// complete new content, but the rename itself may be lost.
    case fileSync
    /// `fileSync`, plus fsync of the directory after the rename and of the parent of every
    /// directory created on the way: once the call returns, the new content is on disk.
    case fullSync
}
