import Foundation
import Synchronization

/// An upload whose content arrives over several calls on the I/O pool (the async
/// `withFileWriter`): the temp file and its directory, held between calls, committed or
/// discarded once. Discarded if released uncommitted.
final class PendingStore: Sendable {
    private struct State {
        var directory: DirectoryHandle
        var temp: TempFile
        var finished = false
    }

    private let engine: Engine
    private let target: Target
    private let state: Mutex<State>

    /// Creates the temp file in the context's directory (made if missing).
    init(engine: Engine, target: Target) throws {
        var directory = try engine.openContext(target.context, create: true)
        let temp: TempFile
        do {
            temp = try engine.createTempFile(in: &directory, context: target.context)
        } catch {
            directory.close()
            throw error
        }
        self.engine = engine
        self.target = target
        state = Mutex(State(directory: directory, temp: temp))
    }

    /// Appends bytes to the temp file.
    func write(_ data: Data) throws(SyscallError) {
        let fd = state.withLock { $0.finished ? -1 : $0.temp.fd }
        guard fd >= 0 else { throw SyscallError(syscall: .write, errno: .badFileDescriptor) }
        let result: Result<Void, SyscallError> = data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return .success(()) }
            do throws(SyscallError) {
                try writeAll(fd, base, bytes.count)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// The commit sequence of every upload (fsync per durability, rename, directory fsync).
    func commit() throws {
        try state.withLock { state in
            guard !state.finished else { throw SyscallError(syscall: .renameat, errno: .badFileDescriptor) }
            state.finished = true
            defer { state.directory.close() }
            try engine.commit(&state.temp, in: &state.directory, as: target)
        }
    }

    /// Removes the temp file; the previous version stays.
    func discard() {
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            engine.discard(state.temp, in: state.directory.fd)
            state.directory.close()
        }
    }

    deinit { discard() }
}
