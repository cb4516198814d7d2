#if Benchmark
import LocalStorage

/// Everything that shapes a run, decided once from the command line (and written to the JSON).
struct BenchSettings: Codable, Sendable {
    /// `--quick`: small counts and sizes for a CI smoke run.
    var quick: Bool
    /// Object sizes for put and get; ingest, export and mapped get use those of at least 64 MiB
    /// (or the largest).
    var sizes: [Int]
    /// Workload families to run.
    var groups: [WorkloadGroup]

    /// Rounds every row runs at least (each round runs every contender once, in a random order).
    /// 6 is the fewest for which the order-statistic interval of a median reaches 95%.
    var minimumRounds: Int
    /// Rounds a row never exceeds, however wide its intervals stay.
    var maximumRounds: Int
    /// Seconds of rounds (after the warm-up) after which a row stops even if its intervals are
    /// still wide; rows of 1 GiB get `largeRowBudgetSeconds`.
    var rowBudgetSeconds: Double
    /// The budget of rows moving objects of 1 GiB and more (one round takes seconds).
    var largeRowBudgetSeconds: Double
    /// A row stops early once every shown ratio's interval lies within ± this fraction of its
    /// median (0.05: ±5%).
    var precision: Double
    /// Seed of the generator that orders the contenders in each round (same seed, same orders).
    var seed: UInt64

    /// How many bytes one run of a batched (small-object) put or get moves at most.
    var batchBytes: Int
    /// Most operations in one run of a batched get.
    var getBatchLimit: Int
    /// Most operations in one run of a batched put at `.noSync`.
    var putBatchLimit: Int
    /// Most operations in one run of a batched put at `.fileSync` or `.fullSync` (each one
    /// waits for the disk).
    var syncedBatchLimit: Int
    /// Files in the small-file directory.
    var smallFileCount: Int
    /// Size of each small file.
    var smallFileSize: Int
    /// Files of the small-file directory that one run of get or exists touches (spread evenly
    /// over it); the same ones in every run.
    var smallTouched: Int
    /// Files the small-file put writes, and delete removes, per run.
    var smallBatch: Int
    /// Names per call of the batch exists row.
    var batchNames: Int
    /// Files one run of the move-ingest row moves.
    var moveBatch: Int
    /// The directory sizes of the list rows (empty files in a context of their own).
    var listSizes: [Int]
    /// Listings per run, per directory size (a listing of 2,000 names takes under a millisecond).
    var listingsPerRun: [Int]
    /// Threads of the scaling rows (against one thread).
    var threads: Int
    /// Threads and objects of the parallel 1 MiB put (the row README quoted).
    var parallelLargeThreads: Int
    var parallelLargeObjects: Int
    /// The context (subdirectory of the store root) every workload uses; "" is the root.
    var context: String
    /// `--only`: run only the rows whose id contains one of these (empty: every row of `groups`).
    var only: [String] = []

    // The pipeline-cache rows (issue 9).
    /// Lookups per run of the object hit, decode and hit-rate rows.
    var cacheRequests: Int
    /// Computing misses per run of the object miss row.
    var cacheMisses: Int
    /// How long the computation of the process rows takes (issue 9: 1 s).
    var computeSeconds: Double
    /// Processes asking for one key in the process rows.
    var cacheProcesses: Int
    /// The expiry of diskcache's lock recipe in the takeover row (issue 9 measured 5 s).
    var diskcacheLockExpireSeconds: Double
    /// Lock acquire+release cycles per run.
    var lockCycles: Int
    /// Bytes of the array rows.
    var arrayBytes: Int
    /// The eviction row's limit, in 4 KiB files (the root is kept at it).
    var evictionLimitFiles: Int
    /// Uploads per run of the eviction row.
    var evictionBatch: Int

    /// The time budget of a row moving objects of `size` bytes.
    func budget(forObjectSize size: Int) -> Double {
        size >= 1 << 30 ? largeRowBudgetSeconds : rowBudgetSeconds
    }

    /// Operations in one run of a batched get of `size`-byte objects.
    func getOperations(objectSize size: Int) -> Int {
        max(1, min(getBatchLimit, batchBytes / max(1, size)))
    }

    /// Operations in one run of a batched put of `size`-byte objects at `durability`.
    func putOperations(objectSize size: Int, durability: Durability) -> Int {
        let limit = durability == .noSync ? putBatchLimit : syncedBatchLimit
        return max(1, min(limit, batchBytes / max(1, size)))
    }

    static let defaultSizes = [4 << 10, 1 << 20, 64 << 20]
    static let largeSize = 1 << 30
    static let quickSizes = [4 << 10, 1 << 20, 16 << 20]

    /// The default plan: about 3 minutes on 2 shared cores with a virtualized ext4 disk, and about
    /// 4 more for the pipeline-cache rows.
    static func standard(quick: Bool) -> BenchSettings {
        BenchSettings(
            quick: quick,
            sizes: quick ? quickSizes : defaultSizes,
            groups: WorkloadGroup.allCases,
            minimumRounds: 6,
            maximumRounds: quick ? 12 : 200,
            rowBudgetSeconds: quick ? 0.25 : 5,
            largeRowBudgetSeconds: quick ? 0.25 : 40,
            precision: 0.05,
            seed: 0x5EED_0010,
            batchBytes: quick ? 4 << 20 : 8 << 20,
            getBatchLimit: quick ? 128 : 1024,
            putBatchLimit: quick ? 64 : 256,
            syncedBatchLimit: quick ? 8 : 32,
            smallFileCount: quick ? 1_000 : 10_000,
            smallFileSize: 4 << 10,
            smallTouched: quick ? 200 : 2_000,
            smallBatch: quick ? 50 : 250,
            batchNames: 16,
            moveBatch: quick ? 16 : 64,
            listSizes: quick ? [500, 5_000] : [2_000, 100_000],
            listingsPerRun: quick ? [5, 1] : [10, 1],
            threads: 2,
            parallelLargeThreads: 4,
            parallelLargeObjects: quick ? 16 : 64,
            context: "bench",
            cacheRequests: quick ? 100 : 500,
            cacheMisses: quick ? 50 : 200,
            computeSeconds: quick ? 0.25 : 1,
            cacheProcesses: 4,
            diskcacheLockExpireSeconds: quick ? 0.5 : 5,
            lockCycles: quick ? 2_000 : 20_000,
            arrayBytes: quick ? 16 << 20 : 64 << 20,
            evictionLimitFiles: quick ? 200 : 4_000,
            evictionBatch: quick ? 20 : 400)
    }
}
#endif
