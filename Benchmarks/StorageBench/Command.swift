#if Benchmark
import ArgumentParser
#endif
import Foundation
import Glibc

#if Benchmark

/// `storage-bench`: the benchmark of LocalStorage against the same work done with raw
/// syscalls (plain and confined), Foundation, swift-nio's NIOFileSystem, Python and memcpy,
/// measured in interleaved rounds in the same process and run.
///
/// It creates a scratch directory, runs the plan (see `BenchPlan`), removes the directory,
/// prints the table and, on request, writes the JSON and the SVG chart. It exits non-zero if
/// the directory is unusable, the disk or memory too small for the chosen sizes, or any
/// workload fails; missed targets are reported but do not fail the run.
struct StorageBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage-bench",
        abstract: "Measure LocalStorage against raw syscalls, Foundation, NIOFileSystem, Python and memcpy.",
        discussion: """
            With no arguments: every workload family at 4 KiB, 1 MiB and 64 MiB in a scratch directory \
            under the current directory (removed at the end): about 5 minutes on 2 cores (up to 8 when they \
            are busy), about 3 of them for the pipeline-cache rows (--workloads cache: their process rows wait \
            for 1 s computations; python-diskcache, if installed, is one of their contenders), under 0.3 GiB of \
            memory and about 0.3 GiB of disk (it refuses to start with less than 0.6 GiB free). --large \
            adds the 1 GiB rows (about 6 minutes more, 3.2 GiB of memory, 3.5 GiB of disk). --quick is the \
            CI smoke run (about 1 minute on 2 cores shared with other builds).

            Method: every row runs each contender once per round, in a random order, until the 95% \
            interval of each marked ratio (median of the per-round ratios, sign-test interval) lies \
            within ±--precision of its median, or the row's --budget is spent. The table shows \
            medians (µs or ms per operation, or GB/s) and, under each row, the marked ratios with \
            their intervals.

            Targets: the least ratio a row should show against a baseline (e.g. "≥0.95× raw": \
            LocalStorage at least 0.95 times as fast as the raw loop). A target is met when the \
            whole interval is at or above it, missed when the whole interval is below it, and \
            inconclusive when the interval straddles it.

            Exit status: 0 when every workload ran, whatever the targets say (a miss is a \
            measurement, not a failure); non-zero if the directory is unusable, the disk or memory \
            is too small for the sizes, an option is invalid, or a workload fails. Progress goes to \
            standard error, the table to standard output.
            """)

    @Flag(help: "CI smoke run: smaller sizes, counts and budgets; about 1 minute.")
    var quick = false

    @Flag(help: "Add the 1 GiB rows to the plan (about 6 minutes more; 3.2 GiB of memory, 3.5 GiB of disk).")
    var large = false

    @Flag(help: "Only the S3 rows: S3Storage against boto3 on the endpoint in AWS_ENDPOINT_URL (traits Benchmark,S3).")
    var s3 = false

    @Option(help: ArgumentHelp("Alternating repetitions of each S3 row (--s3 only; default 3).", valueName: "count"))
    var s3Repetitions = 3

    @Option(
        help: ArgumentHelp(
            "Directory to create the scratch directory (bench-scratch-<pid>) in.", valueName: "path"))
    var dir = "."

    @Option(
        help: ArgumentHelp(
            "Comma-separated object sizes for put, get and ingest, e.g. 4KiB,1MiB,64MiB (the default; "
                + "--quick: 4KiB,1MiB,16MiB). Ingest and export use the sizes of 64 MiB and more.", valueName: "list"))
    var sizes: String?

    @Option(
        help: ArgumentHelp(
            "Comma-separated workload families: \(WorkloadGroup.allCases.map(\.rawValue).joined(separator: ", ")) "
                + "(default: all).", valueName: "list"))
    var workloads: String?

    @Option(
        help: ArgumentHelp(
            "Comma-separated substrings of row ids: run only the rows whose id contains one of them, e.g. "
                + "get-4KiB,small- (ids as in the JSON; default: every row of --workloads).", valueName: "list"))
    var only: String?

    /// A worker of a process row (`ChildJob` as JSON): the benchmark starts itself in this mode.
    @Option(help: .private)
    var child: String?

    /// `OP:COUNT`: repeat one library operation (see `ProfileMode`), for instruction counts.
    @Option(help: .private)
    var profileOp: String?

    @Option(
        help: ArgumentHelp(
            "Seconds of rounds after which a row stops even if its intervals are still wider than --precision "
                + "(default 5, and 40 for 1 GiB rows; --quick: 0.25; a value given here applies to every row).",
            valueName: "seconds"))
    var budget: Double?

    @Option(
        help: ArgumentHelp(
            "Stop a row once every marked ratio's 95% interval lies within ± this fraction of its median "
                + "(default 0.05).", valueName: "fraction"))
    var precision: Double?

    @Option(
        help: ArgumentHelp(
            "Write every measurement (every round of every contender), the intervals, targets, machine and "
                + "git commit to this JSON file.",
            valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write a chart of the marked ratios, their intervals and targets to this SVG file.", valueName: "file"))
    var svg: String?

    @Option(
        help: ArgumentHelp(
            "The context (subdirectory of the store) every workload uses; \"\" is the store root.", valueName: "name"))
    var context = "bench"

    func validate() throws {
        _ = try makeSettings()
        guard s3Repetitions >= 1 else { throw ValidationError("--s3-repetitions must be at least 1") }
        for (option, path) in [("--json", json), ("--svg", svg)] {
            guard let path else { continue }
            let directory = (path as NSString).deletingLastPathComponent
            if access(directory.isEmpty ? "." : directory, W_OK) != 0 {
                throw ValidationError("\(option) \(path): cannot write in '\(directory.isEmpty ? "." : directory)'")
            }
        }
    }

    /// The settings the options describe.
    func makeSettings() throws -> BenchSettings {
        var settings = BenchSettings.standard(quick: quick)
        if let sizes {
            var parsed: [Int] = []
            for item in sizes.split(separator: ",") {
                guard let size = parseSize(String(item)) else {
                    throw ValidationError("--sizes: '\(item)' is not a size (examples: 4096, 4KiB, 64MiB, 1GiB)")
                }
                guard size <= 64 << 30 else { throw ValidationError("--sizes: \(item) is larger than 64 GiB") }
                if !parsed.contains(size) { parsed.append(size) }
            }
            guard !parsed.isEmpty else { throw ValidationError("--sizes: no size given") }
            settings.sizes = parsed.sorted()
        }
        if let workloads {
            var groups: [WorkloadGroup] = []
            for item in workloads.split(separator: ",") {
                let name = item.trimmingCharacters(in: .whitespaces).lowercased()
                guard let group = WorkloadGroup(rawValue: name) else {
                    throw ValidationError(
                        "--workloads: unknown '\(name)'; choose from "
                            + WorkloadGroup.allCases.map(\.rawValue).joined(separator: ", "))
                }
                if !groups.contains(group) { groups.append(group) }
            }
            guard !groups.isEmpty else { throw ValidationError("--workloads: no workload given") }
            settings.groups = groups.sorted()
        }
        if large && !settings.sizes.contains(BenchSettings.largeSize) {
            settings.sizes.append(BenchSettings.largeSize)
        }
        if let budget {
            guard budget > 0 && budget <= 3600 else { throw ValidationError("--budget must be more than 0 and at most 3600") }
            settings.rowBudgetSeconds = budget
            settings.largeRowBudgetSeconds = budget
        }
        if let precision {
            guard precision > 0 && precision < 1 else { throw ValidationError("--precision must be between 0 and 1") }
            settings.precision = precision
        }
        let components = context.split(separator: "/", omittingEmptySubsequences: false)
        if !context.isEmpty
            && (context.hasPrefix("/") || context.contains("\0")
                || components.contains { $0.isEmpty || $0 == "." || $0 == ".." || $0.hasPrefix(".ls-tmp-") })
        {
            throw ValidationError("--context '\(context)' is not a valid relative context")
        }
        settings.context = context
        if let only {
            settings.only = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !settings.only.isEmpty else { throw ValidationError("--only: no row id given") }
            if BenchPlan(settings: settings).specs.isEmpty {
                throw ValidationError("--only \(only): no row of --workloads has an id containing it")
            }
        }
        return settings
    }

    mutating func run() throws {
        if let child { Glibc.exit(ChildMode.run(child)) }
        if let profileOp {
            guard let (operation, count) = ProfileMode.parse(profileOp) else {
                throw ValidationError("--profile-op: OP:COUNT, OP one of " + ProfileMode.operations.joined(separator: ", "))
            }
            try ProfileMode.run(operation, count: count, under: dir)
            return
        }
        if s3 { return try S3Bench.run(repetitions: s3Repetitions, directory: dir) }
        let started = monotonicNanoseconds()
        let date = Date()
        let settings = try makeSettings()
        let plan = BenchPlan(settings: settings)
        let progress = Progress()

        // An export to a pipe whose reader failed must come back as an error, not kill the run.
        signal(SIGPIPE, SIG_IGN)
        let scratch = try ScratchDirectory(under: dir)
        let interruptSources = scratch.removeOnInterrupt()
        defer { withExtendedLifetime(interruptSources) {} }
        let results: [WorkloadResult]
        do {
            try checkCapacity(plan, scratch)
            progress.note(
                "storage-bench: \(plan.specs.count) workloads in \(scratch.path)"
                    + (settings.quick ? " (--quick)" : "") + "; the table follows at the end.")
            let context = try BenchContext(settings: settings, scratch: scratch)
            let runner = Runner(context: context, progress: progress)
            results = plan.specs.enumerated().map { index, spec in
                runner.run(spec, index: index, of: plan.specs.count)
            }
        } catch {
            scratch.remove()
            throw error
        }
        scratch.remove()

        let report = BenchReport(
            date: date, command: CommandLine.arguments.enumerated().map { $0 == 0 ? "storage-bench" : $1 },
            elapsedSeconds: Double(monotonicNanoseconds() - started) / 1e9,
            git: GitDescription.current(), machine: MachineDescription.current(directory: scratch.parent),
            directory: scratch.parent, settings: settings, results: results, omitted: plan.omitted)
        print(TextReport.render(report), terminator: "")
        fflush(nil)
        if let json {
            do { try JSONReport.write(report, to: json) } catch {
                throw BenchError("cannot write --json \(json): \(error.localizedDescription)")
            }
            progress.note("wrote \(json)")
        }
        if let svg {
            do { try SVGChart.write(report, to: svg) } catch {
                throw BenchError("cannot write --svg \(svg): \(error.localizedDescription)")
            }
            progress.note("wrote \(svg)")
        }
        if !report.failedWorkloads.isEmpty {
            throw BenchError("\(report.failedWorkloads.count) workload(s) failed: \(report.failedWorkloads.joined(separator: ", "))")
        }
    }

    /// Refuses to start when the scratch file system or the memory is too small for the plan.
    private func checkCapacity(_ plan: BenchPlan, _ scratch: ScratchDirectory) throws {
        let largest = formatSize(plan.largestObject)
        if let free = scratch.freeSpace() {
            if free.bytes < UInt64(plan.requiredDiskBytes) {
                throw BenchError(
                    "not enough disk space in \(scratch.parent): \(formatBytes(free.bytes)) free, but objects of "
                        + "\(largest) need about \(formatBytes(UInt64(plan.requiredDiskBytes))). "
                        + "Pass smaller --sizes (or --quick), or --dir on a larger file system.")
            }
            if free.inodes < UInt64(plan.requiredInodes) {
                throw BenchError(
                    "not enough free inodes in \(scratch.parent): \(free.inodes) free, \(plan.requiredInodes) needed.")
            }
        }
        let memory = availableMemory()
        if memory < UInt64(plan.requiredMemoryBytes) {
            throw BenchError(
                "not enough memory: \(formatBytes(memory)) available, but objects of \(largest) need about "
                    + "\(formatBytes(UInt64(plan.requiredMemoryBytes))). Pass smaller --sizes (or --quick).")
        }
    }
}

#endif

/// MemAvailable from /proc/meminfo, or the physical memory if it cannot be read.
func availableMemory() -> UInt64 {
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }
            if let kilobytes { return kilobytes * 1024 }
        }
    }
    return UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES)))) * UInt64(max(0, sysconf(Int32(_SC_PAGESIZE))))
}

/// "3.2 GiB", "512 MiB".
func formatBytes(_ bytes: UInt64) -> String {
    if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
    return String(format: "%.0f MiB", Double(bytes) / Double(1 << 20))
}
