#if Benchmark
import Dispatch
import Foundation
import NIOCore
import Synchronization
import _NIOFileSystem

/// The NIOFileSystem baseline: swift-nio's `_NIOFileSystem` (2.101), called the way its
/// documentation shows, on `FileSystem.shared` (whose blocking calls run on NIO's thread pool).
///
/// - put: `Data.write(toFileAt:options: .newFile(replaceExisting: true))`: on Linux an O_TMPFILE
///   in the directory, written, then linked in under the name when closed; no fsync.
/// - get: `ByteBuffer(contentsOf:maximumSizeAllowed:)` (NIO's own buffer type; its Data
///   variant copies that buffer once more).
/// - exists: `info(forFileAt:infoAboutSymbolicLink: true)` is a regular file (one lstat).
/// - copy: `copyItem(at:to:)`.
///
/// The API is async. `fromAsync` runs a whole batch inside one task that awaits each call (how
/// async code uses it; one bridge per batch, negligible); `fromSync` bridges every call on its
/// own, as synchronous code calling it once per operation must.
enum NIOBaseline {
    /// The most a get may read (NIO's API requires a limit; a ByteBuffer holds under 4 GiB).
    static let readLimit = ByteCount.gibibytes(2)

    static func put(_ data: Data, path: FilePath) async throws {
        try await data.write(toFileAt: path, options: .newFile(replaceExisting: true))
    }

    static func get(path: FilePath) async throws -> ByteBuffer {
        try await ByteBuffer(contentsOf: path, maximumSizeAllowed: readLimit)
    }

    static func exists(path: FilePath) async throws -> Bool {
        try await FileSystem.shared.info(forFileAt: path, infoAboutSymbolicLink: true)?.type == .regular
    }

    static func copy(from source: FilePath, to destination: FilePath) async throws {
        try await FileSystem.shared.copyItem(at: source, to: destination)
    }
}

extension NIOBaseline {
    /// The NIO contenders of a row: `.nio` awaits the `count` calls of `operation` in one task;
    /// `.nioFromSync` (when `fromSync`) bridges each call on its own.
    static func contenders(
        _ method: String, count: Int, fromSync: Bool, reset: @escaping () throws -> Void = {},
        _ operation: @escaping @Sendable (Int) async throws -> Void
    ) -> [Contender] {
        var contenders = [
            Contender(
                kind: .nio, method: method + ", awaited in one task",
                run: {
                    try waitForTask { for index in 0..<count { try await operation(index) } }
                    return nil
                }, reset: reset)
        ]
        if fromSync {
            contenders.append(
                Contender(
                    kind: .nioFromSync, method: method + ", each call bridged from synchronous code",
                    run: {
                        for index in 0..<count { try waitForTask { try await operation(index) } }
                        return nil
                    }, reset: reset))
        }
        return contenders
    }
}

/// Runs `body` in a new task and blocks the calling (non-cooperative) thread until it is done:
/// how synchronous code calls an async API.
func waitForTask<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = TaskOutcome<T>()
    Task {
        do { outcome.finish(.success(try await body())) } catch { outcome.finish(.failure(error)) }
    }
    return try outcome.wait().get()
}

/// The result of a task that a blocked thread waits for.
private final class TaskOutcome<T: Sendable>: Sendable {
    private let result = Mutex<Result<T, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func finish(_ value: Result<T, any Error>) {
        result.withLock { $0 = value }
        done.signal()
    }

    func wait() -> Result<T, any Error> {
        done.wait()
        return result.withLock { $0 } ?? .failure(BenchError("task ended without a result"))
    }
}
#endif
