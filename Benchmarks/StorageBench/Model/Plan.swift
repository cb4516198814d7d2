#if Benchmark
import LocalStorage

/// The ordered list of workloads one run executes, built from the settings before anything is
/// allocated, so the disk and memory checks can run first.
///
/// Execution goes size by size (every put, ingest and get of 4 KiB, then of 1 MiB, ...) so one
/// payload serves all rows of a size and at most one large payload is alive at a time; then the
/// async rows (4 KiB and the large size again, on files of their own); then the rows that share
/// the small-file directory and the pipeline-cache rows (before the delete row,
/// which drops that directory), then the puts on several threads and the listings. The report
/// regroups the rows by workload family.
///
/// Adding a workload: write a `WorkloadSpec` whose builder returns a `Workload` (a name, a size,
/// the engine's closure and the baselines' closures — `makeMappedGet` in `PutGetWorkloads.swift`
/// is a short example), append it here, and give it a target in `Targets.swift` if it has one.
struct BenchPlan {
    let settings: BenchSettings
    /// In execution order.
    let specs: [WorkloadSpec]
    /// Rows this build leaves out, with the reason (shown under the table).
    let omitted: [String]

    init(settings: BenchSettings) {
        self.settings = settings
        let groups = Set(settings.groups)
        var specs: [WorkloadSpec] = []
        var omitted: [String] = []
        let ingestSizes = BenchPlan.ingestSizes(settings.sizes)
        for size in settings.sizes.sorted() {
            if groups.contains(.put) {
                for durability in Durability.allCases { specs.append(BenchPlan.putSpec(size: size, durability: durability)) }
            }
            let large = ingestSizes.contains(size)
            if groups.contains(.ingest) && large {
                specs.append(BenchPlan.ingestSpec(size: size, direct: true))
                specs.append(BenchPlan.ingestSpec(size: size, direct: false))
                // A move is a rename: its cost does not depend on the size, so one size is enough.
                if size == ingestSizes.min() { specs.append(BenchPlan.moveSpec(size: size)) }
            }
            if groups.contains(.get) {
                specs.append(BenchPlan.getSpec(size: size))
                if large { specs.append(BenchPlan.mappedGetSpec(size: size)) }
            }
            if groups.contains(.export) && large {
                specs.append(BenchPlan.exportFileSpec(size: size))
                specs.append(BenchPlan.exportPipeSpec(size: size))
            }
        }
        // The async rows write and read files of their own, so they can run anywhere; here, before
        // the small-file directory exists.
        if groups.contains(.async) {
            for row in AsyncRow.allCases { specs.append(BenchPlan.asyncSpec(row, settings: settings)) }
        }
        var afterFixture: [WorkloadSpec] = []
        if groups.contains(.small) {
            for operation in SmallOperation.allCases {
                guard BenchPlan.isBuilt(operation) else {
                    omitted.append(
                        "\(BenchPlan.smallLabel(operation, settings)): not built; it needs LocalStorage's batch "
                            + "checkIfExists(_: [String], context:). Build with STORAGE_BENCH_BATCH_API defined once it exists.")
                    continue
                }
                let spec = BenchPlan.smallSpec(operation, settings: settings)
                if operation == .delete { afterFixture.append(spec) } else { specs.append(spec) }
            }
        }
        if groups.contains(.parallel) {
            specs.append(BenchPlan.parallelSpec(.get, settings: settings))
            specs.append(BenchPlan.parallelSpec(.exists, settings: settings))
        }
        // The pipeline-cache rows; the ifExists hit row reads the small-file directory, so they run
        // before the delete row drops it.
        if groups.contains(.cache) {
            for row in CacheRow.allCases { specs.append(BenchPlan.cacheSpec(row, settings: settings)) }
        }
        specs += afterFixture
        if groups.contains(.parallel) {
            specs.append(BenchPlan.parallelSpec(.put, settings: settings))
            specs.append(BenchPlan.parallelSpec(.putLarge, settings: settings))
        }
        if groups.contains(.list) {
            for (index, count) in settings.listSizes.enumerated() {
                let listings = index < settings.listingsPerRun.count ? settings.listingsPerRun[index] : 1
                specs.append(BenchPlan.listSpec(count: count, listings: listings))
            }
        }
        if !settings.only.isEmpty {
            specs = specs.filter { spec in settings.only.contains { spec.id.contains($0) } }
        }
        self.specs = specs
        self.omitted = omitted
    }

    /// Ingest, export and mapped get run at the sizes of at least 64 MiB, or at the largest size
    /// if there is none.
    static func ingestSizes(_ sizes: [Int]) -> [Int] {
        let large = sizes.filter { $0 >= 64 << 20 }
        if !large.isEmpty { return large }
        return sizes.max().map { [$0] } ?? []
    }

    /// The largest object any workload handles.
    var largestObject: Int { specs.map(\.objectSize).max() ?? 0 }

    /// Disk space the plan needs at its peak: the ingest source, a stored source and one output
    /// (export), the small-file directory twice over, the largest parallel batch, and a margin
    /// for directories and inodes of the listing rows.
    var requiredDiskBytes: Int {
        let block = 4096
        let roundedSmall = (settings.smallFileSize + block - 1) / block * block
        let small =
            specs.contains { $0.group == .small || $0.group == .parallel || $0.group == .cache }
            ? 2 * settings.smallFileCount * roundedSmall : 0
        let parallel = settings.parallelLargeObjects << 20
        // The eviction row's two roots, each of its limit plus 10%.
        let eviction = specs.contains { $0.group == .cache } ? 3 * settings.evictionLimitFiles * roundedSmall : 0
        return 3 * largestObject + small + parallel + eviction + (256 << 20)
    }

    /// Inodes the plan needs at its peak.
    var requiredInodes: Int {
        2 * settings.smallFileCount + (settings.listSizes.max() ?? 0) + 3 * settings.evictionLimitFiles + 4_096
    }

    /// Memory the plan needs at its peak: the payload, the memcpy destination and one result.
    var requiredMemoryBytes: Int { 3 * largestObject + (256 << 20) }
}
#endif
