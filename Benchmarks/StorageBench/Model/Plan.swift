import LocalStorage

/// The ordered list of workloads one run executes, built from the settings before anything is
/// allocated, so the disk and memory checks can run first.
///
/// Execution goes size by size (every put, ingest and get of 4 KiB, then of 1 MiB, ...) so one
/// payload serves all rows of a size and at most one large payload is alive at a time; the
/// report then regroups the rows by workload family.
///
/// Adding a workload: write a `WorkloadSpec` whose builder returns a `Workload` (a name, a size,
/// the engine's closure and the baselines' closures — `makeMappedGet` in `PutGetWorkloads.swift`
/// is a short example) and append it here.
struct BenchPlan {
    let settings: BenchSettings
    /// In execution order.
    let specs: [WorkloadSpec]

    init(settings: BenchSettings) {
        self.settings = settings
        let groups = Set(settings.groups)
        var specs: [WorkloadSpec] = []
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
        if groups.contains(.small) {
            specs += SmallOperation.allCases.map { BenchPlan.smallSpec($0, settings: settings) }
        }
        if groups.contains(.parallel) {
            for load in settings.parallelLoads {
                for threads in settings.threadCounts { specs.append(BenchPlan.parallelSpec(load, threads: threads)) }
            }
        }
        self.specs = specs
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
    /// (export), the small-file fixture twice over, the largest parallel batch, and a margin.
    var requiredDiskBytes: Int {
        let block = 4096
        let roundedSmall = (settings.smallFileSize + block - 1) / block * block
        let small = specs.contains { $0.group == .small } ? 2 * settings.smallFileCount * roundedSmall : 0
        let parallel = settings.parallelLoads.map { $0.objectSize * $0.objects }.max() ?? 0
        return 3 * largestObject + small + parallel + (256 << 20)
    }

    /// Inodes the plan needs at its peak.
    var requiredInodes: Int { 2 * settings.smallFileCount + 4_096 }

    /// Memory the plan needs at its peak: the payload, the memcpy destination and one result.
    var requiredMemoryBytes: Int { 3 * largestObject + (256 << 20) }
}
