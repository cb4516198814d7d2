import Foundation
import Synchronization

/// Writes one file's content in chunks from async code: the async counterpart of ``FileWriter``.
///
/// Get one from ``LocalStorage/withFileWriter(fileName:context:_:)-(_,_,(AsyncFileWriter)->R)``
/// with an async closure; it is valid only inside that closure. Small writes are gathered in
/// memory (256 KiB); each flush runs on the storage's I/O threads, never on the cooperative
/// pool. Nothing is visible under the name until the closure returns, and then all of it at
/// once. Call it from one task at a time: concurrent writes are each whole, but their order is
/// not defined.
public final class AsyncFileWriter: Sendable {
    private struct State {
        var buffer = Data()
        var bytesWritten = 0
        var isOpen = true
        var failure: LocalStorageError?
    }

    private let pending: PendingStore
    private let pool: IOThreadPool
    private let state = Mutex(State())
    private let describe: @Sendable (SyscallError) -> LocalStorageError

    init(pending: PendingStore, pool: IOThreadPool, describe: @escaping @Sendable (SyscallError) -> LocalStorageError) {
        self.pending = pending
        self.pool = pool
        self.describe = describe
    }

    /// Bytes accepted so far.
    public var bytesWritten: Int { state.withLock { $0.bytesWritten } }

    /// Appends bytes.
    /// - Parameter data: The bytes to append.
    /// - Throws: `LocalStorageError` (`.noSpace`, `.ioError`, ...); after a failure every later
    ///   write throws that failure again and nothing will be stored; `.closed` if the writer's
    ///   scope has ended; `CancellationError` if the task is cancelled (nothing is stored).
    public func write(_ data: Data) async throws {
        let full: Data? = try state.withLock { state in
            guard state.isOpen else {
                throw LocalStorageError(
                    code: .closed, operation: .upload, message: "the writer is used after its withFileWriter closure returned")
            }
            if let failure = state.failure { throw failure }
            state.bytesWritten += data.count
            state.buffer.append(data)
            guard state.buffer.count >= FileWriter.bufferCapacity else { return nil }
            defer { state.buffer = Data() }
            return state.buffer
        }
        if let full { try await flush(full) }
    }

    /// Appends bytes.
    /// - Parameter bytes: The bytes to append.
    /// - Throws: As ``write(_:)-(Data)``.
    public func write(_ bytes: [UInt8]) async throws { try await write(Data(bytes)) }

    /// Appends a string's UTF-8 bytes.
    /// - Parameter string: The string to append.
    /// - Throws: As ``write(_:)-(Data)``.
    public func write(_ string: String) async throws { try await write(Data(string.utf8)) }

    private func flush(_ data: Data) async throws {
        let pending = self.pending
        do {
            try await pool.run { () throws -> Void in try pending.write(data) }
        } catch let error as SyscallError {
            let failure = describe(error)
            state.withLock { $0.failure = failure }
            throw failure
        } catch {
            state.withLock { $0.failure = $0.failure ?? LocalStorageError(code: .closed, operation: .upload, message: "cancelled") }
            throw error
        }
    }

    /// Pushes out the buffer and closes the writer; throws the first failure of a failed writer,
    /// so that nothing is committed.
    func finish() async throws {
        let rest: Data = try state.withLock { state in
            state.isOpen = false
            if let failure = state.failure { throw failure }
            defer { state.buffer = Data() }
            return state.buffer
        }
        if !rest.isEmpty { try await flush(rest) }
    }

    func invalidate() { state.withLock { $0.isOpen = false } }
}
