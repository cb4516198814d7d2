import Foundation

/// The whole run: what `--json` writes and what the table and chart are drawn from.
struct BenchReport: Codable, Sendable {
    let tool: String
    let schemaVersion: Int
    /// ISO 8601, UTC.
    let date: String
    /// The command line as typed.
    let command: [String]
    let elapsedSeconds: Double
    let git: GitDescription
    let machine: MachineDescription
    /// The directory the scratch directory was created in (`--dir`).
    let directory: String
    let settings: BenchSettings
    /// How the numbers were taken (also printed under the table).
    let methodology: [String]
    /// Rows in report order (grouped by workload family).
    let results: [WorkloadResult]
    let targetsMet: Int
    let targetsMissed: Int
    let failedWorkloads: [String]

    init(
        date: Date, command: [String], elapsedSeconds: Double, git: GitDescription, machine: MachineDescription,
        directory: String, settings: BenchSettings, results: [WorkloadResult]
    ) {
        tool = "storage-bench"
        schemaVersion = 1
        self.date = date.ISO8601Format()
        self.command = command
        self.elapsedSeconds = elapsedSeconds
        self.git = git
        self.machine = machine
        self.directory = directory
        self.settings = settings
        methodology = BenchReport.methodology(settings)
        let ordered = results.enumerated().sorted { left, right in
            left.element.group == right.element.group
                ? left.offset < right.offset : left.element.group < right.element.group
        }.map(\.element)
        self.results = ordered
        let checks = ordered.flatMap(\.targets)
        targetsMet = checks.filter(\.met).count
        targetsMissed = checks.count - targetsMet
        failedWorkloads = ordered.filter { $0.error != nil }.map(\.id)
    }

    /// The method, stated where the numbers are.
    static func methodology(_ settings: BenchSettings) -> [String] {
        var lines = [
            "Every row: one untimed warm-up run of each contender, then timed repetitions alternating "
                + "LocalStorage, raw syscalls, Foundation, memcpy on the same bytes (A B C D, then other orders, "
                + "chosen so each contender follows each other one about equally often); median [min–max] over the "
                + "repetitions; ratio = LocalStorage median / baseline median (> 1: LocalStorage faster). "
                + "Timing: CLOCK_MONOTONIC around the operation only. MB/s = 10^6 bytes/s.",
            "Page cache: not dropped (that needs root). Every timed run starts from the same state instead: "
                + "the previous run's outputs deleted and syncfs(2) issued, untimed, so no run pays for another's "
                + "writeback. Reads (get, the ingest source) hit a warm page cache for every contender alike.",
            "(noisy) marks a row where LocalStorage's or the raw loop's fastest repetition beat its slowest by "
                + "more than 1.5×; its ratios need more repetitions (e.g. --sizes 1GiB --repetitions 9) before they "
                + "mean much. On VMs that return freed memory to the host (virtio-balloon free-page reporting), "
                + "large runs are bimodal: the same copy takes 0.3 s or 1.5 s depending on whether its page-cache "
                + "pages must be faulted in again on the host.",
            "Durability: put rows run at each level; ingest, get, small-file and parallel rows at .noSync.",
            "Raw syscalls: the plainest loop on the CLocalStorage shim, with the context directory opened once "
                + "(untimed) — no name validation, no confinement, no preallocation, no retries.",
            "Foundation: Data.write(to:options: .atomic) fsyncs its temp file before the rename "
                + "(swift-foundation on Linux), so it matches .fileSync and does more work than .noSync; "
                + ".fullSync rows add a directory fsync via FileHandle.synchronize().",
            "memcpy: the same bytes copied into a buffer touched beforehand — memory bandwidth, the bound on "
                + "any page-cache put or get (batched 4 KiB copies stay in the CPU cache).",
            "Objects under \(formatSize(settings.batchBytes)) are timed in batches (ops/rep column). The "
                + "small-file suite works in a directory holding \(settings.smallFileCount.grouped) files of "
                + "\(formatSize(settings.smallFileSize)); per repetition, put writes \(settings.smallBatch.grouped) "
                + "new files and delete removes \(settings.smallBatch.grouped) of them (re-created, untimed, before "
                + "each run). Every workload uses context '\(settings.context)'.",
        ]
        if !settings.repetitionsFromUser && settings.largeRepetitions != settings.repetitions
            && settings.sizes.contains(where: { $0 >= settings.largeObjectThreshold }) {
            lines.append(
                "Rows of \(formatSize(settings.largeObjectThreshold)) and more: \(settings.largeRepetitions) "
                    + "repetitions after the warm-up instead of \(settings.repetitions), so the default run fits "
                    + "in about 3 minutes on 2 cores; pass --repetitions 5 for 5 everywhere.")
        }
        if settings.quick {
            lines.append("--quick: smaller sizes, counts and repetitions — a smoke test, not a measurement.")
        }
        return lines
    }
}
