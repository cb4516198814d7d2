#if Benchmark
import Foundation
import LocalStorage
import Synchronization

// Threads: the same work done on N threads and on one, by one shared LocalStorage (it is
// Sendable) and by the raw loop; item i goes to thread i mod N. The ratio that matters is the
// engine on N threads against the engine on one; the raw loop's own scaling shows what the
// kernel and the machine allow (on 2 cores shared with other work, less than 2×).

/// What a scaling row does.
enum ParallelOperation: String, Sendable {
    /// 4 KiB gets of the small-file directory's touched files.
    case get
    /// Existence checks of the same files.
    case exists
    /// New 4 KiB files.
    case put
    /// New 1 MiB files (the README's parallel-put row).
    case putLarge = "put-large"
}

extension BenchPlan {
    static func parallelSpec(_ operation: ParallelOperation, settings: BenchSettings) -> WorkloadSpec {
        let (id, label, size) = parallelNames(operation, settings)
        return WorkloadSpec(id: id, group: .parallel, label: label, objectSize: size) { context in
            try context.makeParallel(operation)
        }
    }

    static func parallelNames(_ operation: ParallelOperation, _ settings: BenchSettings) -> (String, String, Int) {
        let threads = operation == .putLarge ? settings.parallelLargeThreads : settings.threads
        switch operation {
        case .get: return ("parallel-get-4KiB-\(threads)t", "get 4 KiB × \(threads) threads", settings.smallFileSize)
        case .exists: return ("parallel-exists-\(threads)t", "exists × \(threads) threads", 0)
        case .put: return ("parallel-put-4KiB-\(threads)t", "put 4 KiB × \(threads) threads", 4 << 10)
        case .putLarge: return ("parallel-put-1MiB-\(threads)t", "put 1 MiB × \(threads) threads", 1 << 20)
        }
    }
}

extension BenchContext {
    func makeParallel(_ operation: ParallelOperation) throws -> Workload {
        let (id, label, size) = BenchPlan.parallelNames(operation, settings)
        let threads = operation == .putLarge ? settings.parallelLargeThreads : settings.threads
        let storage = try storage(.noSync)
        let context = self.context, directory = directoryFD

        /// The engine's and the raw loop's work on item `index`.
        let engineItem: @Sendable (Int) throws -> Void
        let rawItem: @Sendable (Int) throws -> Void
        let items: Int
        var reset: () throws -> Void = {}
        var setUp: () throws -> Void = {}
        switch operation {
        case .get, .exists:
            let fixture = smallFixture()
            let stride = max(1, fixture.names.count / max(1, settings.smallTouched))
            let touched = Swift.stride(from: 0, to: fixture.names.count, by: stride)
                .prefix(settings.smallTouched).map { fixture.names[$0] }
            items = touched.count
            setUp = { try self.ensureFixture(names: fixture.names, bytes: fixture.bytes) }
            if operation == .get {
                engineItem = { index in _ = try storage.downloadFile(touched[index], context: context) }
                rawItem = { index in _ = try RawSyscalls.get(directory: directory, name: touched[index]) }
            } else {
                engineItem = { index in
                    guard try storage.checkIfExists(touched[index], context: context) else { throw BenchError("not found") }
                }
                rawItem = { index in
                    guard RawSyscalls.exists(directory: directory, name: touched[index]) else { throw BenchError("not found") }
                }
            }
        case .put, .putLarge:
            let bytes = makePayload(size: size, seed: UInt64(size) &+ 7)
            items = operation == .put ? settings.putBatchLimit : settings.parallelLargeObjects
            let names = (0..<items).map { "parallel-\($0)" }
            let temps = names.map { ".raw-tmp-" + $0 }
            reset = { RawSyscalls.removeAll(directory: directory, names: names) }
            engineItem = { index in _ = try storage.uploadFile(file: bytes, fileName: names[index], context: context) }
            rawItem = { index in
                try bytes.withUnsafeBytes { buffer in
                    try RawSyscalls.put(
                        buffer, directory: directory, temp: temps[index], name: names[index], durability: .noSync)
                }
            }
        }

        func contender(
            _ kind: ContenderKind, _ method: String, threads: Int, _ item: @escaping @Sendable (Int) throws -> Void
        ) -> Contender {
            Contender(
                kind: kind, method: method + " on \(threads) thread\(threads == 1 ? "" : "s")",
                run: {
                    try runThreads(threads) { thread in
                        for index in Swift.stride(from: thread, to: items, by: threads) { try item(index) }
                    }
                    return nil
                }, reset: reset)
        }
        let engineMethod = "one shared LocalStorage, \(operation.rawValue)"
        let rawMethod = "the raw \(operation.rawValue) loop, one held dir fd"
        return Workload(
            id: id, group: .parallel, label: label, objectSize: size, operations: items,
            bytesPerRun: operation == .exists ? 0 : size * items,
            metric: operation == .putLarge ? .gigabytesPerSecond : .microsecondsPerOperation,
            durability: operation == .put || operation == .putLarge ? .noSync : nil, threads: threads,
            writes: operation == .put || operation == .putLarge,
            contenders: [
                contender(.engine, engineMethod, threads: threads, engineItem),
                contender(.engineOneThread, engineMethod, threads: 1, engineItem),
                contender(.raw, rawMethod, threads: threads, rawItem),
                contender(.rawOneThread, rawMethod, threads: 1, rawItem),
            ],
            // How far the raw loop itself scales: what the machine allowed during this row.
            alsoShown: [RatioPair(numerator: .raw, denominator: .rawOneThread)],
            notes: [
                "threads: µs/op is wall time over all threads divided by the operations (so 2 threads that scale "
                    + "perfectly halve it)"
            ],
            setUp: setUp, tearDown: reset)
    }
}

/// The first error any of several threads reported.
final class FirstFailure: Sendable {
    private let value = Mutex<(any Error)?>(nil)

    func record(_ error: any Error) {
        value.withLock { first in if first == nil { first = error } }
    }

    var first: (any Error)? { value.withLock { $0 } }
}

/// Runs `body(0..<count)` on `count` new threads at once and waits for all of them; rethrows
/// the first error. Dedicated threads, not Dispatch's pool, so 4 threads really are 4 on a
/// 2-core machine.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let group = DispatchGroup()
    let failure = FirstFailure()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            do {
                try body(index)
            } catch {
                failure.record(error)
            }
        }
        thread.start()
    }
    group.wait()
    if let error = failure.first { throw error }
}
#endif
