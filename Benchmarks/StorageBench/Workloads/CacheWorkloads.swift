#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage

// The pipeline-cache rows (issue 9), all at .noSync: one lookup for a file that may be missing;
// get-or-compute of a 20-field object (`PipelineRecord`) against python-diskcache, the seed's
// pickle files and the same workflow in Foundation; several processes asking for one missing
// key (ProcessWorkloads.swift); typed arrays, locks and automatic eviction
// (LockLimitWorkloads.swift).

/// The rows of the pipeline-cache family, in the order they run.
enum CacheRow: CaseIterable, Sendable {
    case ifExistsHit, ifExistsMiss
    case objectHit, objectDecode, objectMiss, hitRate90, hitRate50
    case stampede, takeover
    case arrayPut, arrayGet
    case lock
    case evictionPut
}

extension BenchPlan {
    static func cacheSpec(_ row: CacheRow, settings: BenchSettings) -> WorkloadSpec {
        let (id, label) = cacheNames(row, settings)
        let size: Int
        switch row {
        case .ifExistsHit, .evictionPut: size = settings.smallFileSize
        case .arrayPut, .arrayGet: size = settings.arrayBytes
        default: size = 0
        }
        return WorkloadSpec(id: id, group: .cache, label: label, objectSize: size) { context in
            try context.makeCache(row)
        }
    }

    /// The row's id (stable: JSON, targets, --only) and label (the table).
    static func cacheNames(_ row: CacheRow, _ settings: BenchSettings) -> (String, String) {
        let processes = settings.cacheProcesses
        let compute = formatSeconds(settings.computeSeconds)
        let array = formatSize(settings.arrayBytes)
        switch row {
        case .ifExistsHit: return ("cache-ifexists-hit-4KiB", "ifExists 4 KiB, hit")
        case .ifExistsMiss: return ("cache-ifexists-miss", "ifExists, miss")
        case .objectHit: return ("cache-object-hit", "cachedObject hit")
        case .objectDecode: return ("cache-object-decode", "downloadObject vs JSONDecoder")
        case .objectMiss: return ("cache-object-miss", "cachedObject miss+store")
        case .hitRate90: return ("cache-hitrate-90", "cachedObject, 90% hits")
        case .hitRate50: return ("cache-hitrate-50", "cachedObject, 50% hits")
        case .stampede: return ("cache-stampede-\(processes)p", "\(processes) procs, 1 key, \(compute) compute")
        case .takeover: return ("cache-takeover-\(processes)p", "SIGKILL the computer: takeover")
        case .arrayPut: return ("cache-array-put-\(sizeID(settings.arrayBytes))", "uploadArray \(array) Float")
        case .arrayGet: return ("cache-array-get-\(sizeID(settings.arrayBytes))", "downloadArray \(array) Float")
        case .lock: return ("cache-lock", "withLock, empty body")
        case .evictionPut: return ("cache-evict-put-4KiB", "put 4 KiB, root at its limit")
        }
    }
}

/// "1 s", "0.25 s".
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%g s", seconds)
}

extension BenchContext {
    func makeCache(_ row: CacheRow) throws -> Workload {
        switch row {
        case .ifExistsHit: return try makeIfExists(row, hit: true)
        case .ifExistsMiss: return try makeIfExists(row, hit: false)
        case .objectHit: return try makeObjectHit(row)
        case .objectDecode: return try makeObjectDecode(row)
        case .objectMiss: return try makeObjectMiss(row)
        case .hitRate90: return try makeHitRate(row, missEvery: 10)
        case .hitRate50: return try makeHitRate(row, missEvery: 2)
        case .stampede: return try makeProcessRow(row, takeover: false)
        case .takeover: return try makeProcessRow(row, takeover: true)
        case .arrayPut: return try makeArray(row, put: true)
        case .arrayGet: return try makeArray(row, put: false)
        case .lock: return try makeLock(row)
        case .evictionPut: return try makeEviction(row)
        }
    }

    /// `downloadFileIfExists` of the small-file directory's touched files (hit) or of as many
    /// names that are not there (miss), against what Foundation code writes for "the content if
    /// it exists": `fileExists` then `Data(contentsOf:)`.
    private func makeIfExists(_ row: CacheRow, hit: Bool) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let (fixtureNames, bytes) = smallFixture()
        let stride = max(1, fixtureNames.count / max(1, settings.smallTouched))
        let touched = Swift.stride(from: 0, to: fixtureNames.count, by: stride).prefix(settings.smallTouched)
            .map { fixtureNames[$0] }
        let names = hit ? touched : touched.map { "absent-" + $0 }
        let paths = names.map(path)
        let context = self.context, directory = directoryFD
        let expected = hit ? names.count : 0

        let contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.downloadFileIfExists(_:context:) -> Data?",
                run: {
                    var found = 0
                    for name in names where try storage.downloadFileIfExists(name, context: context) != nil { found += 1 }
                    try expectCount(found, expected, "downloadFileIfExists")
                    return nil
                }),
            Contender(
                kind: .raw, method: "openat (ENOENT: nil), fstat malloc read close on the held dir fd",
                run: {
                    var found = 0
                    for name in names where try RawSyscalls.getIfExists(directory: directory, name: name) != nil { found += 1 }
                    try expectCount(found, expected, "openat")
                    return nil
                }),
            Contender(
                kind: .foundation, method: "FileManager.fileExists(atPath:), then Data(contentsOf:) if it does",
                run: {
                    var found = 0
                    for path in paths where FoundationBaseline.exists(path: path) {
                        _ = try FoundationBaseline.get(path: path)
                        found += 1
                    }
                    try expectCount(found, expected, "fileExists")
                    return nil
                }),
        ]
        return Workload(
            id: id, group: .cache, label: label, objectSize: hit ? settings.smallFileSize : 0, operations: names.count,
            bytesPerRun: hit ? settings.smallFileSize * names.count : 0, metric: .microsecondsPerOperation,
            writes: false, contenders: contenders,
            setUp: { try self.ensureFixture(names: fixtureNames, bytes: bytes) })
    }

    /// The directory of the Foundation workflow's JSON files (outside the store).
    private func foundationCacheDirectory(_ row: String) throws -> String {
        try scratchDirectory("foundation-cache/" + row)
    }

    /// The Python worker of a row and the notes that say which of its contenders are missing.
    private func pythonCache(_ id: String) throws -> (worker: PythonCacheWorker?, notes: [String]) {
        guard let python else {
            return (nil, ["\(id): no python3 on PATH: the diskcache and seed contenders are left out."])
        }
        let worker = try PythonCacheWorker(python, cacheDirectory: try scratchDirectory("python/" + id))
        if worker.hasDiskcache { return (worker, []) }
        return (
            worker,
            [
                "\(id): python-diskcache is not installed for \(python.executable) (pip install diskcache): the "
                    + "diskcache contender is left out."
            ]
        )
    }

    /// A hit of `cachedObject` against diskcache's `Cache.get` and the seed's check-and-download.
    /// (Foundation's `fileExists` + `Data(contentsOf:)` + `JSONDecoder` is in the hit-rate rows: a
    /// run of it here would take a hundred times longer than the others' and leave the row few
    /// rounds for the ratios it is about.)
    private func makeObjectHit(_ row: CacheRow) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let context = subcontext("cache")
        let requests = settings.cacheRequests
        let key = "record-1"
        let record = PipelineRecord.make(1)
        let seedPath = try scratchDirectory("seed/" + id) + "/" + key
        let (worker, notes) = try pythonCache(id)

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.cachedObject(_:fileName:context:compute:) of a stored entry",
                run: {
                    var last: PipelineRecord?
                    for _ in 0..<requests {
                        last = try storage.cachedObject(PipelineRecord.self, fileName: key, context: context) {
                            throw BenchError("cachedObject computed on a hit")
                        }
                    }
                    guard last?.id == 1 else { throw BenchError("cachedObject returned another record") }
                    return last
                })
        ]
        if let worker {
            if worker.hasDiskcache {
                contenders.append(
                    Contender(
                        kind: .diskcache, method: "diskcache.Cache.get(key) of the pickled dataclass",
                        run: {
                            try worker.timed("diskcache-get \(key) 1 \(requests)")
                        }))
            }
            contenders.append(
                Contender(
                    kind: .seed, method: "os.path.exists, open + read, pickle.loads of the pickled dataclass",
                    run: { try worker.timed("seed-get \(seedPath) 1 \(requests)") }))
        }
        return Workload(
            id: id, group: .cache, label: label, objectSize: 0, operations: requests, bytesPerRun: 0,
            metric: .microsecondsPerOperation, writes: false, contenders: contenders,
            notes: notes + [
                "cache object: a 20-field struct holding a 1,000-element [Float] (PipelineRecord); in Python the "
                    + "same fields in a dataclass, the embedding a list of floats, pickled (protocol 5)."
            ],
            setUp: {
                try storage.uploadObject(record, fileName: key, context: context)
                if let worker {
                    if worker.hasDiskcache { _ = try worker.request("diskcache-set \(key) 1") }
                    _ = try worker.request("seed-put \(seedPath) 1")
                }
            },
            tearDown: { worker?.stop() })
    }

    /// Decoding the object: the engine's decoder is internal, so its column is a whole
    /// `downloadObject` (read, checksum, decode) of the page-cached file, against
    /// `JSONDecoder.decode` of bytes already in memory; raw shows what the read alone costs.
    private func makeObjectDecode(_ row: CacheRow) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let context = subcontext("cache")
        let decodes = max(1, settings.cacheRequests / 2)
        let key = "decode-1"
        let record = PipelineRecord.make(1)
        let json = try JSONEncoder().encode(record)
        // The object's file relative to the held context directory.
        let objectName = "cache/" + key
        let directory = directoryFD

        let contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.downloadObject(_:fileName:context:) (read, CRC-32C, decode)",
                run: {
                    var last: PipelineRecord?
                    for _ in 0..<decodes { last = try storage.downloadObject(PipelineRecord.self, fileName: key, context: context) }
                    guard last == record else { throw BenchError("downloadObject returned another record") }
                    return last
                }),
            Contender(
                kind: .foundation, method: "JSONDecoder.decode of the JSON bytes in memory (one decoder)",
                run: {
                    let decoder = JSONDecoder()
                    var last: PipelineRecord?
                    for _ in 0..<decodes { last = try decoder.decode(PipelineRecord.self, from: json) }
                    guard last == record else { throw BenchError("JSONDecoder returned another record") }
                    return last
                }),
            Contender(
                kind: .raw, method: "openat fstat malloc read close of the object's file (the read alone)",
                run: {
                    var last = Data()
                    for _ in 0..<decodes { last = try RawSyscalls.get(directory: directory, name: objectName) }
                    return last
                }),
        ]
        return Workload(
            id: id, group: .cache, label: label, objectSize: 0, operations: decodes, bytesPerRun: 0,
            metric: .microsecondsPerOperation, writes: false, contenders: contenders,
            notes: [
                "object decode: the engine's binary decoder is not public, so LocalStorage's column is a whole "
                    + "downloadObject (read of the page-cached file, CRC-32C, decode) against JSONDecoder alone on "
                    + "bytes in memory: the ratio understates the decoder's own speed. Its raw column is the raw "
                    + "read of the same file, for the read's share."
            ],
            setUp: { try storage.uploadObject(record, fileName: key, context: context) })
    }

    /// A miss that computes (returns a ready value) and stores, against diskcache's `memoize` on
    /// a new argument. (Foundation's miss, `fileExists` + `JSONEncoder` + `Data.write`, is in the
    /// hit-rate rows, for the reason given at `makeObjectHit`.)
    private func makeObjectMiss(_ row: CacheRow) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let context = subcontext("cache")
        let misses = settings.cacheMisses
        let record = PipelineRecord.make(1)
        let names = (0..<misses).map { "miss-\($0)" }
        let (worker, notes) = try pythonCache(id)
        let removeEngine = { for name in names { try storage.deleteFile(name, context: context) } }
        let runs = RunCounter()

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.cachedObject(...) { value } on a missing entry, at .noSync",
                run: {
                    for name in names {
                        let value = try storage.cachedObject(PipelineRecord.self, fileName: name, context: context) { record }
                        guard value.id == 1 else { throw BenchError("cachedObject returned another record") }
                    }
                    return nil
                }, reset: removeEngine)
        ]
        if let worker, worker.hasDiskcache {
            contenders.append(
                Contender(
                    kind: .diskcache, method: "a Cache.memoize'd function called with a new argument (get, call, set)",
                    run: {
                        // New arguments in every run; the script also clears the cache after timing.
                        try worker.timed("memoize-miss \(runs.next() * misses) \(misses)")
                    }))
        }
        return Workload(
            id: id, group: .cache, label: label, objectSize: 0, operations: misses, bytesPerRun: 0,
            metric: .microsecondsPerOperation, durability: .noSync, contenders: contenders, notes: notes,
            tearDown: {
                worker?.stop()
                try? removeEngine()
            })
    }

    /// A workload of lookups of which one in `missEvery` is a new key (computed and stored) and
    /// the rest hit one of 100 stored entries, against the same workflow written with
    /// Foundation: `fileExists`, then `Data(contentsOf:)` + `JSONDecoder`, or `JSONEncoder` +
    /// `Data.write`.
    private func makeHitRate(_ row: CacheRow, missEvery: Int) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let context = subcontext("cache-\(id)")
        let requests = settings.cacheRequests
        let record = PipelineRecord.make(1)
        let pool = (0..<100).map { "entry-\($0)" }
        let names = (0..<requests).map { index in
            index % missEvery == missEvery - 1 ? "new-\(index)" : pool[index % pool.count]
        }
        let newNames = names.filter { $0.hasPrefix("new-") }
        let directory = try foundationCacheDirectory(id)
        let paths = names.map { directory + "/" + $0 + ".json" }
        let newPaths = newNames.map { directory + "/" + $0 + ".json" }
        let removeEngine = { for name in newNames { try storage.deleteFile(name, context: context) } }
        let removeFoundation = { for path in newPaths { unlink(path) } }

        let contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.cachedObject(...) { value } at .noSync",
                run: {
                    for name in names {
                        let value = try storage.cachedObject(PipelineRecord.self, fileName: name, context: context) { record }
                        guard value.id == 1 else { throw BenchError("cachedObject returned another record") }
                    }
                    return nil
                }, reset: removeEngine),
            Contender(
                kind: .foundation,
                method: "fileExists; then Data(contentsOf:) + JSONDecoder, or JSONEncoder + Data.write(to:) (not atomic)",
                run: {
                    let decoder = JSONDecoder(), encoder = JSONEncoder()
                    for path in paths {
                        if FoundationBaseline.exists(path: path) {
                            let value = try decoder.decode(PipelineRecord.self, from: try FoundationBaseline.get(path: path))
                            guard value.id == 1 else { throw BenchError("JSONDecoder returned another record") }
                        } else {
                            try encoder.encode(record).write(to: URL(fileURLWithPath: path))
                        }
                    }
                    return nil
                }, reset: removeFoundation),
        ]
        return Workload(
            id: id, group: .cache, label: label, objectSize: 0, operations: requests, bytesPerRun: 0,
            metric: .microsecondsPerOperation, durability: .noSync, contenders: contenders,
            notes: [
                "hit-rate rows: \(requests.grouped) lookups per run over 100 stored entries; every "
                    + "\(missEvery == 2 ? "second" : "\(missEvery)th") lookup is a new key, computed (a ready value) "
                    + "and stored; the new entries are deleted, untimed, after each run. Foundation's write is "
                    + "Data.write(to:) without .atomic (it skips the fsync that .atomic makes on Linux, and is "
                    + "not safe against torn reads)."
            ],
            setUp: {
                let encoder = JSONEncoder()
                for name in pool {
                    try storage.uploadObject(record, fileName: name, context: context)
                    try encoder.encode(record).write(to: URL(fileURLWithPath: directory + "/" + name + ".json"))
                }
            },
            tearDown: {
                try? removeEngine()
                removeFoundation()
            })
    }
}

/// Counts a contender's runs (its closures are not `mutating`).
final class RunCounter {
    private var count = 0

    /// 0, 1, 2, ...
    func next() -> Int {
        defer { count += 1 }
        return count
    }
}
#endif
