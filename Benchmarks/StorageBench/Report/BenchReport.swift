#if Benchmark
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
    /// Peak resident memory of the benchmark process (getrusage), and of its largest child.
    let peakResidentBytes: UInt64
    let peakChildResidentBytes: UInt64
    let git: GitDescription
    let machine: MachineDescription
    /// The directory the scratch directory was created in (`--dir`).
    let directory: String
    let settings: BenchSettings
    /// How the numbers were taken (also printed under the table).
    let methodology: [String]
    /// Rows in report order (grouped by workload family).
    let results: [WorkloadResult]
    /// Rows this build left out, and why.
    let omitted: [String]
    let targetsMet: Int
    let targetsMissed: Int
    let targetsInconclusive: Int
    let failedWorkloads: [String]

    init(
        date: Date, command: [String], elapsedSeconds: Double, git: GitDescription, machine: MachineDescription,
        directory: String, settings: BenchSettings, results: [WorkloadResult], omitted: [String]
    ) {
        tool = "storage-bench"
        schemaVersion = 4
        self.date = date.ISO8601Format()
        self.command = command
        self.elapsedSeconds = elapsedSeconds
        (peakResidentBytes, peakChildResidentBytes) = peakResidentMemory()
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
        self.omitted = omitted
        let verdicts = ordered.flatMap(\.targets).map(\.verdict) + ordered.flatMap(\.bounds).map(\.verdict)
        targetsMet = verdicts.filter { $0 == .met }.count
        targetsMissed = verdicts.filter { $0 == .missed }.count
        targetsInconclusive = verdicts.filter { $0 == .inconclusive }.count
        failedWorkloads = ordered.filter { $0.error != nil }.map(\.id)
    }

    /// The method, stated where the numbers are.
    static func methodology(_ settings: BenchSettings) -> [String] {
        var lines = [
            "Rounds: after one untimed warm-up run of each contender, every round runs each contender once "
                + "on the same bytes, in a random order (seeded: the same seed gives the same orders). A row "
                + "takes at least \(settings.minimumRounds) rounds and stops when every shown ratio's 95% "
                + "interval lies within ±\(Int((settings.precision * 100).rounded()))% of its median, or when "
                + "its budget (\(formatDuration(settings.rowBudgetSeconds)) of rounds; "
                + "\(formatDuration(settings.largeRowBudgetSeconds)) for 1 GiB rows) or "
                + "\(settings.maximumRounds) rounds are spent.",
            "Cells: the median over the rounds of each contender's time per operation (µs or ms, lower is "
                + "better) or throughput (GB/s = 10^9 bytes/s, higher is better). Timing: CLOCK_MONOTONIC "
                + "around the work only.",
            "Ratios: A's speed over B's, taken in each round (B's time / A's time for the same work) and "
                + "summarized by the median over the rounds; the interval is the sign test's distribution-free "
                + "95% interval of that median (between two order statistics; no normality assumed, an "
                + "outlier round moves it by one rank at most).",
            "Targets: met when the whole interval is at or above the target, missed when it is wholly below, "
                + "inconclusive when it straddles it. Missed targets are measurements: the exit status stays "
                + "0; it is non-zero only when a workload fails or the run cannot start. A few targets are "
                + "times, not ratios (≤ a duration, ≥ a rate): they are judged the same way on the interval of "
                + "the contender's own median.",
            "Page cache: not dropped (that needs root). Every timed run starts from the same state instead: "
                + "the previous run's outputs deleted and, in rows that write, syncfs(2) issued, untimed, so "
                + "no run pays for another's writeback. Reads hit a warm page cache for every contender alike.",
            "Durability: put rows run at each level; all other rows write at .noSync.",
            "Batches: objects under \(formatSize(settings.batchBytes)) are timed many per run. The small-file "
                + "rows work in a directory of \(settings.smallFileCount.grouped) files of "
                + "\(formatSize(settings.smallFileSize)); get and exists touch \(settings.smallTouched.grouped) "
                + "of them spread over it. Every workload uses context '\(settings.context)'.",
        ]
        if !settings.sizes.contains(where: { $0 >= BenchSettings.largeSize }) && !settings.quick {
            lines.append(
                "1 GiB rows: not in the default run (pass --large: about 6 minutes more, 3.2 GiB of memory, "
                    + "3.5 GiB of disk).")
        }
        if settings.quick {
            lines.append("--quick: smaller sizes, counts and budgets: a smoke test, not a measurement.")
        }
        return lines
    }
}

/// Peak resident set of this process and of its largest waited-for child, in bytes.
func peakResidentMemory() -> (UInt64, UInt64) {
    var me = rusage(), children = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &me)
    getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &children)
    // ru_maxrss is in KiB on Linux.
    return (UInt64(max(0, me.ru_maxrss)) * 1024, UInt64(max(0, children.ru_maxrss)) * 1024)
}
#endif
