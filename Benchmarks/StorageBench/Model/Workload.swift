import LocalStorage

/// Who does a workload's work: the engine under test or one of its baselines.
enum ContenderKind: String, Codable, CaseIterable, Sendable {
    /// `LocalStorage`, the engine under test.
    case engine
    /// The plainest loop written directly on the `CLocalStorage` shim.
    case raw
    /// The Foundation calls a Swift programmer would reach for.
    case foundation
    /// `memcpy` of the same bytes: the in-memory bandwidth that bounds page-cache I/O.
    case memcpy

    /// The column and legend title.
    var title: String {
        switch self {
        case .engine: "LocalStorage"
        case .raw: "raw syscalls"
        case .foundation: "Foundation"
        case .memcpy: "memcpy"
        }
    }
}

/// A value a timed run hands back so that freeing it (a 1 GiB `Data`, say) happens after the
/// clock stops, for the engine and its baselines alike.
typealias Retained = Any?

/// One implementation of a workload: the engine or a baseline, as three closures.
///
/// The runner calls `prepare` (untimed), then `run` (timed, on the monotonic clock), drops what
/// `run` returned, then calls `reset` (untimed) — once for the warm-up and once per repetition.
struct Contender {
    /// Which implementation this is.
    let kind: ContenderKind
    /// Exactly what it runs, for the JSON report (e.g. "openat, write, renameat on a held dir fd").
    let method: String
    /// Untimed, before every run: open inputs, create fixtures.
    var prepare: () throws -> Void = {}
    /// The timed work of one repetition.
    let run: () throws -> Retained
    /// Untimed, after every run: delete outputs so the next run starts from the same state.
    var reset: () throws -> Void = {}
}

/// The families of workloads, in the order the report presents them; also the names
/// `--workloads` accepts.
enum WorkloadGroup: String, Codable, CaseIterable, Sendable, Comparable {
    /// Data → store, per durability.
    case put
    /// FileHandle → store, with and without `directStream`.
    case ingest
    /// store → Data, copied or mapped.
    case get
    /// store → a file, store → a pipe.
    case export
    /// put, get, exists, list and delete over a directory of many small files.
    case small
    /// Concurrent puts from 1, 2 and 4 threads.
    case parallel

    var title: String {
        switch self {
        case .put: "put from memory (Data → store)"
        case .ingest: "ingest a file (FileHandle → store)"
        case .get: "get to memory (store → Data)"
        case .export: "export (store → file, store → pipe)"
        case .small: "small-file operations"
        case .parallel: "parallel puts"
        }
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// What a row reports first: bytes per second, or operations per second.
enum Metric: String, Codable, Sendable {
    case megabytesPerSecond = "MB/s"
    case operationsPerSecond = "ops/s"
}

/// A performance target: the engine's median against one baseline's median, in the same run.
struct Target: Codable, Sendable {
    /// The baseline the engine is compared with.
    let baseline: ContenderKind
    /// The least acceptable ratio engine / baseline.
    let minimum: Double
    /// `true` when the engine must be strictly ahead (ratio > `minimum`).
    let strictlyAhead: Bool

    static func atLeast(_ minimum: Double, of baseline: ContenderKind) -> Target {
        Target(baseline: baseline, minimum: minimum, strictlyAhead: false)
    }

    static func ahead(of baseline: ContenderKind) -> Target {
        Target(baseline: baseline, minimum: 1.0, strictlyAhead: true)
    }

    /// "≥0.95× raw syscalls" or ">1× Foundation".
    var summary: String {
        strictlyAhead
            ? ">\(formatRatio(minimum)) \(baseline.title)"
            : "≥\(formatRatio(minimum)) \(baseline.title)"
    }

    func isMet(by ratio: Double) -> Bool {
        strictlyAhead ? ratio > minimum : ratio >= minimum
    }
}

/// One row of the benchmark: the same work done by the engine and by each baseline, on the
/// same bytes, alternating over the repetitions (A B C, A C B, B A C, ...: see `Runner.schedule`)
/// after one warm-up round.
struct Workload {
    /// Stable identifier, e.g. `put-1GiB-fullSync`; used in JSON and in the chart.
    let id: String
    let group: WorkloadGroup
    /// What the row shows, e.g. `put 1 GiB .fullSync`.
    let label: String
    /// Bytes per operation (0 for operations that move no file content).
    let objectSize: Int
    /// Operations in one repetition (a 4 KiB put is timed as a batch of many).
    let operations: Int
    /// Bytes that count towards MB/s in one repetition.
    let bytesPerRepetition: Int
    let metric: Metric
    let repetitions: Int
    let durability: Durability?
    let directStream: Bool?
    let threads: Int?
    /// The engine first, then the baselines.
    let contenders: [Contender]
    let targets: [Target]
    /// Caveats printed under the table and stored in the JSON.
    let notes: [String]
    /// Untimed, once before the warm-up: create sources and fixtures.
    var setUp: () throws -> Void = {}
    /// Untimed, once at the end, even after a failure: free memory, delete fixtures.
    var tearDown: () throws -> Void = {}
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
