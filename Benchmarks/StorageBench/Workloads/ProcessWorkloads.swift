#if Benchmark
import Foundation
import Glibc
import LocalStorage

// Several processes asking for one missing key whose computation takes `computeSeconds`
// (issue 9: 1 s). Each run starts the workers (untimed: until every one says it is ready),
// releases them at once, and reads their lines (see `ChildGroup`).
//
// - stampede: the time from the release until the last worker has the value, and how many
//   computations ran. LocalStorage's workers call `cachedObject` (this executable started
//   again with --child); diskcache's call a `Cache.memoize`'d function, which has no lock, so
//   each computes.
// - takeover: once one worker computes, it gets SIGKILL 0.1 s later; the time from the kill
//   until another worker starts computing. diskcache's workers follow its lock recipe
//   (`diskcache.recipes.Lock` with an expiry, get, compute, set), so a killed holder blocks the
//   others until the expiry.

extension BenchContext {
    func makeProcessRow(_ row: CacheRow, takeover: Bool) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let processes = settings.cacheProcesses
        let computeSeconds = settings.computeSeconds
        let expire = settings.diskcacheLockExpireSeconds
        let root = try scratchDirectory("workers/" + id)
        let cacheDirectory = try scratchDirectory("python/" + id)
        let executable = try selfExecutable()
        let context = self.context
        let timeout = 60 + expire + computeSeconds * Double(processes + 2)
        let log = ComputationLog()
        let runs = RunCounter()

        var contenders = [
            Contender(
                kind: .engine,
                method: "\(processes) processes (storage-bench --child) calling LocalStorage.cachedObject(...) at .noSync",
                run: {
                    let key = "\(id)-\(runs.next())"
                    let arguments = try (0..<processes).map { index in
                        [
                            "--child",
                            try ChildJob(root: root, context: context, key: key, computeSeconds: computeSeconds, index: index).encoded(),
                        ]
                    }
                    let group = try ChildGroup(executable: executable, argumentLists: arguments, timeoutSeconds: timeout)
                    defer { group.stop() }
                    let (seconds, computations) = takeover ? try ChildGroup.takeover(group) : try ChildGroup.stampede(group)
                    log.record(.engine, computations)
                    let allowed = takeover ? 2 : 1
                    guard computations == allowed else {
                        throw BenchError(
                            "cachedObject computed \(computations) times for one key across \(processes) processes"
                                + (takeover ? " with one computer killed (expected 2)" : " (expected 1)"))
                    }
                    return MeasuredSeconds(seconds: seconds)
                })
        ]
        var notes: [String] = []
        if let python, try diskcacheImports(python) {
            let mode = takeover ? "lock-child" : "memoize-child"
            contenders.append(
                Contender(
                    kind: .diskcache,
                    method: takeover
                        ? "\(processes) python3 processes: with recipes.Lock(cache, key, expire=\(formatSeconds(expire))): "
                            + "get, or compute and set"
                        : "\(processes) python3 processes calling a Cache.memoize'd function",
                    run: {
                        let key = "\(id)-\(runs.next())"
                        let arguments = (0..<processes).map { index in
                            [
                                "-c", PythonCacheScript.source, mode, cacheDirectory, key, String(computeSeconds),
                                String(index), String(expire),
                            ]
                        }
                        let group = try ChildGroup(
                            executable: python.executable, argumentLists: arguments, timeoutSeconds: timeout)
                        defer { group.stop() }
                        let (seconds, computations) =
                            takeover ? try ChildGroup.takeover(group) : try ChildGroup.stampede(group)
                        log.record(.diskcache, computations)
                        return MeasuredSeconds(seconds: seconds)
                    }))
        } else {
            notes.append(
                "\(id): "
                    + (python == nil
                        ? "no python3 on PATH"
                        : "python-diskcache is not installed (pip install diskcache)")
                    + ": the diskcache contender is left out.")
        }
        let what =
            takeover
            ? "the time from the SIGKILL of the computing worker (0.1 s into its computation) until another starts "
                + "computing"
            : "the time from the release until the last worker has the value"
        notes.append(
            "\(id): \(processes) worker processes ask at once for one missing key whose computation takes "
                + "\(formatSeconds(computeSeconds)) (a sleep); the row's time is \(what). Starting the workers is not "
                + "timed (each says when it is ready).")
        return Workload(
            id: id, group: .cache, label: label, objectSize: 0, operations: 1, bytesPerRun: 0,
            metric: .millisecondsPerOperation, durability: .noSync, contenders: contenders,
            bounds: Targets.bounds(id: id, settings: settings), notes: notes,
            tearDown: { try? FileManager.default.removeItem(atPath: root) },
            observations: { [log.summary(id, takeover: takeover)] })
    }

    /// Whether `import diskcache` works in `python` (asked once per row).
    private func diskcacheImports(_ python: PythonBaseline) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python.executable)
        process.arguments = ["-c", "import diskcache, diskcache.recipes"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

extension ChildGroup {
    /// Releases the workers and waits until every one has the value; returns the seconds from
    /// the release to the last `done`, and the number of computations.
    static func stampede(_ group: ChildGroup) throws -> (Double, Int) {
        try group.awaitReady()
        let released = try group.release()
        var computations = 0, done = 0
        var last = released
        while done < group.count {
            let event = try group.next()
            switch event.kind {
            case "computing": computations += 1
            case "done":
                done += 1
                last = max(last, try event.time(1))
            default: throw BenchError("worker \(event.worker): unexpected '\(event.kind)'")
            }
        }
        return (Double(last - released) / 1e9, computations)
    }

    /// Releases the workers, kills the first to compute 0.1 s into its computation, and waits
    /// until every other worker has the value; returns the seconds from the kill until another
    /// worker started computing, and the number of computations (the killed one's included).
    static func takeover(_ group: ChildGroup) throws -> (Double, Int) {
        try group.awaitReady()
        let released = try group.release()
        let first = try group.next()
        guard first.kind == "computing" else { throw BenchError("worker \(first.worker): '\(first.kind)' before any computation") }
        let firstStarted = try first.time(0)
        ChildMode.sleepSeconds(0.1)
        let killed = first.worker
        let killedAt = group.kill(killed)
        var computations = 1, done = 0
        var takeover: UInt64?
        func ms(_ time: UInt64) -> String { String(format: "%.1f ms", (Double(time) - Double(released)) / 1e6) }
        while done < group.count - 1 {
            let event = try group.next()
            guard event.worker != killed else { continue }
            switch event.kind {
            case "computing":
                computations += 1
                let started = try event.time(0)
                guard started >= killedAt else {
                    throw BenchError(
                        "worker \(event.worker) started computing at \(ms(started)) after the release, while worker "
                            + "\(killed), computing since \(ms(firstStarted)), was not yet killed (at \(ms(killedAt)))")
                }
                if takeover == nil { takeover = started }
            case "done": done += 1
            default: throw BenchError("worker \(event.worker): unexpected '\(event.kind)'")
            }
        }
        guard let takeover else { throw BenchError("no worker computed after the kill") }
        return (Double(takeover - killedAt) / 1e9, computations)
    }
}

/// How many computations each run of a process row made, per contender.
final class ComputationLog {
    private var counts: [ContenderKind: [Int]] = [:]

    func record(_ kind: ContenderKind, _ computations: Int) { counts[kind, default: []].append(computations) }

    /// "cache-stampede-4p: computations per run (warm-up included): LocalStorage 1 in all 7 runs; ..."
    func summary(_ id: String, takeover: Bool) -> String {
        let parts = ContenderKind.allCases.compactMap { kind -> String? in
            guard let runs = counts[kind], !runs.isEmpty else { return nil }
            let distinct = Set(runs).sorted()
            if distinct.count == 1, let only = distinct.first {
                return "\(kind.title) \(only) in all \(runs.count) runs"
            }
            return "\(kind.title) \(distinct.map(String.init).joined(separator: " to ")) (per run: "
                + runs.map(String.init).joined(separator: ", ") + ")"
        }
        return "\(id): computations per run (warm-up included"
            + (takeover ? "; the killed worker's counts" : "") + "): " + parts.joined(separator: "; ") + "."
    }
}
#endif
