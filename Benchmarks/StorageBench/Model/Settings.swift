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
    /// Timed repetitions per workload (after one untimed warm-up round).
    var repetitions: Int
    /// Timed repetitions for objects of `largeObjectThreshold` bytes and more.
    var largeRepetitions: Int
    /// From this size up, `largeRepetitions` applies.
    var largeObjectThreshold: Int
    /// Whether the user chose the repetition count (then it applies to every size).
    var repetitionsFromUser: Bool
    /// How many bytes one repetition of a batched (small-object) put or get moves at most.
    var batchBytes: Int
    /// Most operations in one repetition of a batched get.
    var batchLimit: Int
    /// Most operations in one repetition of a batched put at `.noSync` (every put creates a file).
    var putBatchLimit: Int
    /// Most operations in one repetition of a batched put at `.fileSync` or `.fullSync`,
    /// where every operation waits for the disk.
    var syncedBatchLimit: Int
    /// Files in the small-file suite.
    var smallFileCount: Int
    /// Size of each small file.
    var smallFileSize: Int
    /// Files the small-file put writes, and delete removes, per repetition.
    var smallBatch: Int
    /// Files one repetition of the move-ingest row moves.
    var moveBatch: Int
    /// Listings of the small-file directory per repetition.
    var listingsPerRepetition: Int
    /// Thread counts for the parallel puts.
    var threadCounts: [Int]
    /// Object sizes and total object counts (split over the threads) for the parallel puts.
    var parallelLoads: [ParallelLoad]
    /// The context (subdirectory of the store root) every workload uses; "" is the root.
    var context: String
    /// Durability of every row but put (ingest, move, small-file, parallel; get and export do
    /// not write to the store): for the record in the JSON.
    var otherRowsDurability: String

    /// One parallel-put shape.
    struct ParallelLoad: Codable, Sendable {
        var objectSize: Int
        var objects: Int
    }

    /// The repetitions a workload on objects of `size` bytes gets.
    func repetitions(forObjectSize size: Int) -> Int {
        size >= largeObjectThreshold && !repetitionsFromUser ? largeRepetitions : repetitions
    }

    /// Operations in one repetition of a batched get of `size`-byte objects.
    func getOperations(objectSize size: Int) -> Int {
        max(1, min(batchLimit, batchBytes / max(1, size)))
    }

    /// Operations in one repetition of a batched put of `size`-byte objects at `durability`.
    func putOperations(objectSize size: Int, durability: Durability) -> Int {
        let limit = durability == .noSync ? putBatchLimit : syncedBatchLimit
        return max(1, min(limit, batchBytes / max(1, size)))
    }

    static let defaultSizes = [4 << 10, 1 << 20, 64 << 20, 1 << 30]
    static let quickSizes = [4 << 10, 1 << 20, 64 << 20]

    /// The default plan: about 2 to 2.5 minutes on 2 cores with a virtualized ext4 disk (the
    /// small-object counts are sized for fsync latencies of a few milliseconds under load).
    static func standard(quick: Bool) -> BenchSettings {
        BenchSettings(
            quick: quick,
            sizes: quick ? quickSizes : defaultSizes,
            groups: WorkloadGroup.allCases,
            repetitions: quick ? 3 : 5,
            largeRepetitions: 3,
            largeObjectThreshold: 1 << 30,
            repetitionsFromUser: false,
            batchBytes: quick ? 4 << 20 : 32 << 20,
            batchLimit: quick ? 256 : 1024,
            putBatchLimit: quick ? 128 : 256,
            syncedBatchLimit: quick ? 16 : 64,
            smallFileCount: quick ? 500 : 10_000,
            smallFileSize: 4 << 10,
            smallBatch: quick ? 100 : 250,
            moveBatch: quick ? 16 : 64,
            listingsPerRepetition: quick ? 5 : 10,
            threadCounts: [1, 2, 4],
            parallelLoads: quick
                ? [ParallelLoad(objectSize: 4 << 10, objects: 128), ParallelLoad(objectSize: 1 << 20, objects: 16)]
                : [ParallelLoad(objectSize: 4 << 10, objects: 256), ParallelLoad(objectSize: 1 << 20, objects: 128)],
            context: "bench",
            otherRowsDurability: "noSync")
    }
}
