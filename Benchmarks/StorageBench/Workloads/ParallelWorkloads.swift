import Foundation
import LocalStorage
import Synchronization

// Parallel puts: one shared LocalStorage (it is Sendable) used from 1, 2 and 4 threads, against
// the raw loop run from the same number of threads; object i goes to thread i mod n.

extension BenchPlan {
    static func parallelSpec(_ load: BenchSettings.ParallelLoad, threads: Int) -> WorkloadSpec {
        WorkloadSpec(
            id: "parallel-\(sizeID(load.objectSize))-\(threads)t", group: .parallel,
            label: parallelLabel(load, threads: threads), objectSize: load.objectSize
        ) { context in try context.makeParallel(load, threads: threads) }
    }

    static func parallelLabel(_ load: BenchSettings.ParallelLoad, threads: Int) -> String {
        "put \(load.objects.grouped) × \(formatSize(load.objectSize)), \(threads) thread\(threads == 1 ? "" : "s")"
    }
}

extension BenchContext {
    func makeParallel(_ load: BenchSettings.ParallelLoad, threads: Int) throws -> Workload {
        let storage = try storage(.noSync)
        let bytes = makePayload(size: load.objectSize, seed: UInt64(load.objectSize) &+ 7)
        let names = (0..<load.objects).map { "parallel-\($0)" }
        let temps = names.map { ".raw-tmp-" + $0 }
        let context = self.context, directory = directoryFD
        let removeOutputs = { RawSyscalls.removeAll(directory: directory, names: names) }

        return Workload(
            id: "parallel-\(sizeID(load.objectSize))-\(threads)t", group: .parallel,
            label: BenchPlan.parallelLabel(load, threads: threads),
            objectSize: load.objectSize, operations: load.objects,
            bytesPerRepetition: load.objectSize * load.objects,
            metric: load.objectSize < 1 << 20 ? .operationsPerSecond : .megabytesPerSecond,
            repetitions: settings.repetitions,
            durability: .noSync, directStream: nil, threads: threads,
            contenders: [
                Contender(
                    kind: .engine, method: "one LocalStorage shared by \(threads) threads, uploadFile(file: Data, ...)",
                    run: {
                        try runThreads(threads) { thread in
                            for index in stride(from: thread, to: names.count, by: threads) {
                                try storage.uploadFile(file: bytes, fileName: names[index], context: context)
                            }
                        }
                        return nil
                    },
                    reset: removeOutputs),
                Contender(
                    kind: .raw, method: "the raw put loop on \(threads) threads, one held dir fd",
                    run: {
                        try runThreads(threads) { thread in
                            try bytes.withUnsafeBytes { buffer in
                                for index in stride(from: thread, to: names.count, by: threads) {
                                    try RawSyscalls.put(
                                        buffer, directory: directory, temp: temps[index], name: names[index],
                                        durability: .noSync)
                                }
                            }
                        }
                        return nil
                    },
                    reset: removeOutputs),
            ],
            targets: [], notes: [],
            tearDown: removeOutputs)
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
