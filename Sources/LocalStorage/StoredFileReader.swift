internal import CLocalStorage
import Foundation
import Glibc

/// Reads one stored file in chunks over one open descriptor, with sequential read-ahead advice
/// to the kernel. Memory stays at one chunk whatever the file's size.
///
/// Get one from ``LocalStorage/openReader(_:context:chunkSize:)-66z5a``. It reads the version
/// that was stored when it was opened, even if the name is replaced meanwhile, and closes its
/// descriptor when released. Iterate it with `for try await chunk in reader` (each read runs on
/// ``IOThreadPool/shared``), or synchronously with ``makeChunkIterator()`` /
/// ``forEachChunk(_:)``. Iterators are independent (each reads at its own offset), so one reader
/// may be shared across tasks.
///
/// ## Implementation
///
/// `posix_fadvise(POSIX_FADV_SEQUENTIAL)` when opened; each chunk is one `pread` loop at the
/// iterator's offset.
public final class StoredFileReader: AsyncSequence, Sendable {
    /// A chunk of the file.
    public typealias Element = Data

    private let fd: CInt
    /// The size of the version being read.
    public let size: Int
    /// The size of each chunk but the last.
    public let chunkSize: Int
    private let path: String

    init(fd: CInt, size: Int, chunkSize: Int, path: String) {
        self.fd = fd
        self.size = size
        self.chunkSize = chunkSize
        self.path = path
        _ = system_fadvise(fd, 0, 0, CLocalStorage_POSIX_FADV_SEQUENTIAL)
    }

    deinit { closeDescriptor(fd) }

    /// Up to `count` bytes at `offset` (fewer only at the end of the file; none at or past it).
    /// - Parameters:
    ///   - count: The most bytes to read; not negative.
    ///   - offset: Where to start; not negative.
    /// - Returns: The bytes read.
    /// - Throws: `.invalidArgument` for a negative count or offset (before any syscall);
    ///   `LocalStorageError` if the read fails.
    public func read(upToCount count: Int, at offset: Int) throws -> Data {
        guard count >= 0, offset >= 0 else {
            throw LocalStorageError(
                code: .invalidArgument, operation: .download, path: path,
                message: "read(upToCount: \(count), at: \(offset)): count and offset must not be negative")
        }
        // offset >= 0 and size >= 0: no overflow.
        let count = offset >= size ? 0 : Swift.min(count, size - offset)
        if count == 0 { return Data() }
        guard let buffer = malloc(count) else {
            throw LocalStorageError(code: .systemError, operation: .download, errno: ENOMEM, path: path, message: "out of memory")
        }
        var filled = 0
        do throws(SyscallError) {
            while filled < count {
                let got = try retrying(.pread) {
                    system_pread(fd, buffer + filled, count - filled, off_t(offset + filled))
                }
                if got == 0 { break }
                filled += got
            }
        } catch {
            free(buffer)
            throw LocalStorageError(error, operation: .download, path: path)
        }
        if filled == 0 {
            free(buffer)
            return Data()
        }
        return Data(bytesNoCopy: buffer, count: filled, deallocator: .free)
    }

    /// Calls `body` with each chunk in order, on the calling thread.
    /// - Parameter body: Receives each chunk; its errors stop the iteration and are rethrown.
    /// - Throws: ``LocalStorageError`` if a read fails; what `body` throws.
    public func forEachChunk(_ body: (Data) throws -> Void) throws {
        var iterator = makeChunkIterator()
        while let chunk = try iterator.next() { try body(chunk) }
    }

    /// A synchronous iterator over the chunks.
    /// - Returns: An iterator at the start of the file.
    public func makeChunkIterator() -> ChunkIterator { ChunkIterator(reader: self) }

    /// An asynchronous iterator over the chunks (each read runs on the I/O pool, not on the
    /// cooperative pool).
    /// - Returns: An iterator at the start of the file.
    public func makeAsyncIterator() -> ChunkIterator { ChunkIterator(reader: self) }

    /// Iterates the chunks of a ``StoredFileReader``, synchronously (`next()`) or in a
    /// `for try await` loop.
    public struct ChunkIterator: AsyncIteratorProtocol {
        let reader: StoredFileReader
        var offset = 0

        /// The next chunk, or nil at the end of the file, read on the calling thread.
        /// - Returns: Up to ``StoredFileReader/chunkSize`` bytes, or nil at the end.
        /// - Throws: ``LocalStorageError`` if the read fails.
        public mutating func next() throws -> Data? { try advance() }

        /// The next chunk, or nil at the end of the file, read on the I/O pool.
        /// - Returns: Up to ``StoredFileReader/chunkSize`` bytes, or nil at the end.
        /// - Throws: ``LocalStorageError`` if the read fails; `CancellationError` when the task
        ///   is cancelled.
        public mutating func next() async throws -> Data? {
            guard offset < reader.size else { return nil }
            let (reader, offset) = (self.reader, self.offset)
            let chunk = try await IOThreadPool.shared.run { try reader.read(upToCount: reader.chunkSize, at: offset) }
            if chunk.isEmpty { return nil }
            self.offset += chunk.count
            return chunk
        }

        private mutating func advance() throws -> Data? {
            guard offset < reader.size else { return nil }
            let chunk = try reader.read(upToCount: reader.chunkSize, at: offset)
            if chunk.isEmpty { return nil }
            offset += chunk.count
            return chunk
        }
    }
}
