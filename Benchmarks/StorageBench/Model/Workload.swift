#if Benchmark
import LocalStorage

/// Who does a workload's work: the engine under test or one of its baselines.
enum ContenderKind: String, Codable, CaseIterable, Sendable {
    /// `LocalStorage`, the engine under test.
    case engine
    /// The engine's async API, awaited from one task (its syscalls on the I/O pool).
    case engineAsync
    /// The engine's synchronous call made inside an async task (on the cooperative pool): the
    /// async call without the hop to the I/O pool.
    case engineInline
    /// The engine on one thread, in rows that measure how it scales over several.
    case engineOneThread
    /// The plainest loop written directly on the `CLocalStorage` shim, context directory held open.
    case raw
    /// The raw loop on one thread, in rows that measure scaling.
    case rawOneThread
    /// The raw loop making the engine's confined calls: openat2(RESOLVE_BENEATH |
    /// RESOLVE_NO_SYMLINKS) of context/name from the root descriptor on every call.
    case confined
    /// The Foundation calls a Swift programmer would reach for.
    case foundation
    /// swift-nio's `_NIOFileSystem`, called from async code (one task awaits every call).
    case nio
    /// `_NIOFileSystem` called from synchronous code: every call bridged (a Task and a semaphore).
    case nioFromSync
    /// Python's `os.listdir`, timed inside the interpreter.
    case python
    /// `memcpy` of the same bytes: the in-memory bandwidth that bounds page-cache I/O.
    case memcpy
    /// The engine moving the same bytes as `Data` (`uploadFile`/`downloadFile`), in rows that
    /// measure what a typed API (arrays) costs over the plain one.
    case engineData
    /// The engine without `CacheLimits`, in the row that measures what automatic eviction costs.
    case engineUnbounded
    /// python-diskcache (`Cache.get`, `memoize`, `recipes.Lock`), the cache pipelines use in Python.
    case diskcache
    /// The seed's Python storage: pickle to a file; check, read and unpickle.
    case seed

    /// The column title (at most 12 characters).
    var title: String {
        switch self {
        case .engine: "LocalStorage"
        case .engineOneThread: "LS 1 thread"
        case .raw: "raw"
        case .rawOneThread: "raw 1 thread"
        case .confined: "confined"
        case .foundation: "Foundation"
        case .nio: "NIO"
        case .nioFromSync: "NIO sync"
        case .python: "Python"
        case .memcpy: "memcpy"
        case .engineData: "LS Data"
        case .engineUnbounded: "LS no limits"
        case .diskcache: "diskcache"
        case .seed: "seed"
        case .engineAsync: "LS async"
        case .engineInline: "LS inline"
        }
    }

    /// What the contender is, for the legend under the table.
    var legend: String {
        switch self {
        case .engine: "LocalStorage: the engine under test."
        case .engineOneThread: "LS 1 thread: the same engine doing the same work on one thread."
        case .raw:
            "raw: the plainest loop on the C shim, context directory opened once (untimed); no name "
                + "validation, no confinement, no preallocation, no retries."
        case .rawOneThread: "raw 1 thread: the raw loop doing the same work on one thread."
        case .confined:
            "confined: the raw loop making the engine's confined calls: openat2(RESOLVE_BENEATH | "
                + "RESOLVE_NO_SYMLINKS) of context/name from the root descriptor on every call (O_PATH | "
                + "O_NOFOLLOW + fstat + close for exists; O_RDONLY + fstat + read + close for get)."
        case .foundation:
            "Foundation: Data.write(.atomic) (it fsyncs, so only in .fileSync/.fullSync rows), "
                + "Data(contentsOf:), FileManager's fileExists, copyItem, moveItem, removeItem and "
                + "contentsOfDirectory (unsorted); in the pipeline-cache rows, JSONEncoder and JSONDecoder "
                + "with fileExists, Data(contentsOf:) and Data.write(to:) without .atomic (no fsync)."
        case .nio:
            "NIO: swift-nio's _NIOFileSystem (FileSystem.shared) awaited from one async task: "
                + "write(toFileAt:options: .newFile(replaceExisting: true)), ByteBuffer(contentsOf:), "
                + "info(forFileAt:), copyItem(at:to:). No fsync option, so only in .noSync rows."
        case .nioFromSync:
            "NIO sync: the same calls from synchronous code, each one bridged (a Task plus a semaphore)."
        case .python: "Python: os.listdir (unsorted), timed inside a python3 process that the row starts once."
        case .memcpy: "memcpy: the same bytes copied into a touched buffer (memory bandwidth, the bound)."
        case .engineData:
            "LS Data: the same engine storing or reading the same bytes as Data (uploadFile, downloadFile)."
        case .engineUnbounded:
            "LS no limits: the same engine on a root of the same size opened without CacheLimits."
        case .diskcache:
            "diskcache: python-diskcache (Cache in a directory beside the store; SQLite in WAL mode, values "
                + "pickled) on the same object, timed inside python3 (one process per row, or one per worker in "
                + "the process rows); left out, with a note, when the module is not installed."
        case .seed:
            "seed: the seed's Python storage on the same object: pickle.dump to a file; a read is "
                + "os.path.exists, open + read, pickle.loads (its own check_if_exists and download_file scan "
                + "the directory with os.listdir, which only costs more), timed inside python3."
        case .engineAsync:
            "LS async: the same engine's async overloads (issue 12), awaited one after another from one task; "
                + "each call's syscalls run on the library's IOThreadPool (its default of at most 4 threads) and "
                + "the task resumes on the cooperative pool. In these rows LocalStorage is the synchronous call."
        case .engineInline:
            "LS inline: the synchronous call made from inside the awaiting task, on the cooperative pool: "
                + "what the async call would cost without the hop to the I/O pool."
        }
    }
}

/// A value a timed run hands back so that freeing it (a 1 GiB `Data`, say) happens after the
/// clock stops, for the engine and its baselines alike.
typealias Retained = Any?

/// Returned by a contender that times itself (a child process): the runner records these
/// seconds instead of its own clock's.
struct MeasuredSeconds {
    let seconds: Double
}

/// One implementation of a workload: the engine or a baseline, as three closures.
///
/// The runner calls `prepare` (untimed), then `run` (timed, on the monotonic clock), drops what
/// `run` returned, then calls `reset` (untimed) — once for the warm-up and once per round.
struct Contender {
    /// Which implementation this is.
    let kind: ContenderKind
    /// Exactly what it runs, for the JSON report (e.g. "openat, write, renameat on a held dir fd").
    let method: String
    /// Untimed, before every run: open inputs, create fixtures.
    var prepare: () throws -> Void = {}
    /// The timed work of one round.
    let run: () throws -> Retained
    /// Untimed, after every run: delete outputs so the next run starts from the same state.
    var reset: () throws -> Void = {}
}

/// The families of workloads, in the order the report presents them; also the names
/// `--workloads` accepts.
enum WorkloadGroup: String, Codable, CaseIterable, Sendable, Comparable {
    /// Data → store, per durability.
    case put
    /// FileHandle → store, with and without `directStream`, and by move.
    case ingest
    /// store → Data, copied or mapped.
    case get
    /// store → a file, store → a pipe.
    case export
    /// put, get, exists and delete in a directory of many small files.
    case small
    /// Sorted listings of large directories.
    case list
    /// The same work on several threads against one.
    case parallel
    /// The pipeline cache: objects, get-or-compute, arrays, locks, limits (issue 9).
    case cache
    /// The async API against the synchronous one and NIOFileSystem, and the hop's cost (issue 12).
    case async

    var title: String {
        switch self {
        case .put: "put from memory (Data → store)"
        case .ingest: "ingest a file (file → store)"
        case .get: "get to memory (store → Data)"
        case .export: "export (store → file, store → pipe)"
        case .small: "small files (a directory of many 4 KiB files)"
        case .list: "list a directory (names, sorted by LocalStorage and raw)"
        case .parallel: "threads (the same work on N threads against one)"
        case .cache: "pipeline cache (objects, get-or-compute across processes, arrays, locks, limits)"
        case .async: "async API (awaited from one task) against sync and NIOFileSystem; the hop's cost"
        }
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// What a row's cells show.
enum Metric: String, Codable, Sendable {
    /// Microseconds per operation (lower is better): small operations.
    case microsecondsPerOperation = "µs/op"
    /// Milliseconds per operation: operations that take longer (a listing of 100,000 names).
    case millisecondsPerOperation = "ms/op"
    /// 10^9 bytes per second (higher is better): transfers of 1 MiB and more.
    case gigabytesPerSecond = "GB/s"

    /// The value one timed run of `seconds` shows, for a run of `operations` moving `bytes`.
    func value(seconds: Double, operations: Int, bytes: Int) -> Double {
        let safe = max(seconds, 1e-9)
        switch self {
        case .microsecondsPerOperation: return safe / Double(max(1, operations)) * 1e6
        case .millisecondsPerOperation: return safe / Double(max(1, operations)) * 1e3
        case .gigabytesPerSecond: return Double(bytes) / safe / 1e9
        }
    }

    var higherIsBetter: Bool { self == .gigabytesPerSecond }
}

/// A speed ratio between two contenders of a row: how much faster `numerator` did the same
/// work than `denominator` (above 1: `numerator` faster).
struct RatioPair: Codable, Sendable, Hashable {
    let numerator: ContenderKind
    let denominator: ContenderKind

    /// "vs raw", or "LS 1 thread ÷ …" spelled out when the numerator is not the engine.
    var label: String {
        numerator == .engine ? "vs \(denominator.title)" : "\(numerator.title) vs \(denominator.title)"
    }
}

/// A performance target: the least acceptable speed ratio between two contenders of a row,
/// measured in the same run. See `Targets.swift` for every target and where it comes from.
struct Target: Codable, Sendable {
    let pair: RatioPair
    /// The least acceptable ratio.
    let minimum: Double
    /// Where the number comes from ("issue 10", "README 2026-11-25 ratio").
    let source: String

    /// "≥ 0.95× raw".
    var summary: String { "≥\(formatRatio(minimum)) \(pair.denominator.title)" }
}

/// An absolute target: the most one contender's median may be, in the row's metric (µs or ms
/// per operation), for targets that are times rather than ratios ("all four done within 1.3 s",
/// "50,000 lock cycles per second"). See `Targets.swift`.
struct Bound: Codable, Sendable {
    let kind: ContenderKind
    /// The largest acceptable median, in the row's metric.
    let maximum: Double
    /// How the target reads, e.g. "≤1,300 ms" or "≥50,000/s".
    let summary: String
    let source: String
}

/// One row of the benchmark: the same work done by the engine and by each baseline, on the
/// same bytes, in rounds of every contender in a random order (see `Runner`).
struct Workload {
    /// Stable identifier, e.g. `put-64MiB-fullSync`; used in JSON and in the chart.
    let id: String
    let group: WorkloadGroup
    /// What the row shows, e.g. `put 64 MiB .fullSync`.
    let label: String
    /// Bytes per operation (0 for operations that move no file content).
    let objectSize: Int
    /// Operations in one run (a 4 KiB put is timed as a batch of many).
    let operations: Int
    /// Bytes that count towards GB/s in one run.
    let bytesPerRun: Int
    let metric: Metric
    let durability: Durability?
    let threads: Int?
    /// Whether its runs write (then each is followed by syncfs(2), untimed); read-only rows
    /// (get, exists, list) skip it, since there is nothing of theirs to write back.
    let writes: Bool
    /// The engine first, then the baselines.
    let contenders: [Contender]
    let targets: [Target]
    /// Absolute targets on contenders' own medians.
    let bounds: [Bound]
    /// The ratios the report shows for this row (and the runner tightens): the row's `shown`
    /// pairs if it gives them, else the targets' pairs, or else LocalStorage against the raw
    /// loop; then the row's `alsoShown` pairs.
    let shownRatios: [RatioPair]
    /// Pairs whose time per operation the report subtracts, round by round (numerator's minus
    /// denominator's, in µs): what one does that the other does not, such as the hop to the I/O
    /// pool.
    let differences: [RatioPair]
    /// Caveats printed under the table and stored in the JSON.
    let notes: [String]
    /// Untimed, once before the warm-up: create sources and fixtures.
    var setUp: () throws -> Void = {}
    /// Untimed, once at the end, even after a failure: free memory, delete fixtures.
    var tearDown: () throws -> Void = {}
    /// Called once after the rounds: what the runs observed beyond their times (how many
    /// computations ran, say), added to the row's notes.
    var observations: () -> [String] = { [] }

    init(
        id: String, group: WorkloadGroup, label: String, objectSize: Int, operations: Int, bytesPerRun: Int,
        metric: Metric, durability: Durability? = nil, threads: Int? = nil, writes: Bool = true,
        contenders: [Contender], shown explicit: [RatioPair]? = nil, alsoShown: [RatioPair] = [], bounds: [Bound] = [],
        differences: [RatioPair] = [], notes: [String] = [], setUp: @escaping () throws -> Void = {},
        tearDown: @escaping () throws -> Void = {},
        observations: @escaping () -> [String] = { [] }
    ) {
        self.id = id
        self.group = group
        self.label = label
        self.objectSize = objectSize
        self.operations = operations
        self.bytesPerRun = bytesPerRun
        self.metric = metric
        self.durability = durability
        self.threads = threads
        self.writes = writes
        self.contenders = contenders
        let present = Set(contenders.map(\.kind))
        targets = Targets.for(id: id).filter { present.contains($0.pair.numerator) && present.contains($0.pair.denominator) }
        self.bounds = bounds.filter { present.contains($0.kind) }
        var shown: [RatioPair]
        if let explicit {
            shown = explicit.filter { present.contains($0.numerator) && present.contains($0.denominator) }
        } else if !targets.isEmpty {
            shown = targets.map(\.pair)
        } else if present.contains(.raw) {
            shown = [RatioPair(numerator: .engine, denominator: .raw)]
        } else {
            shown = contenders.dropFirst().prefix(1).map { RatioPair(numerator: .engine, denominator: $0.kind) }
        }
        shown += alsoShown.filter { present.contains($0.numerator) && present.contains($0.denominator) }
        shownRatios = shown.reduce(into: []) { pairs, pair in if !pairs.contains(pair) { pairs.append(pair) } }
        self.differences = differences.filter { present.contains($0.numerator) && present.contains($0.denominator) }
        self.notes = notes
        self.setUp = setUp
        self.tearDown = tearDown
        self.observations = observations
    }
}

/// What a workload needs before it can be built: its place in the plan and a builder, so the
/// plan can be listed (and its disk and memory needs checked) before anything is allocated.
struct WorkloadSpec {
    let id: String
    let group: WorkloadGroup
    let label: String
    /// The largest object it handles, for the disk and memory checks.
    let objectSize: Int
    let build: (BenchContext) throws -> Workload
}
#endif
