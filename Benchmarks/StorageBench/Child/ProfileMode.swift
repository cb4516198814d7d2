#if Benchmark
import Foundation
import Glibc
import LocalStorage

/// The `--profile-op OP:COUNT` mode: one library operation repeated COUNT times on a store under
/// `--dir`, nothing else measured or printed. For instruction counts, which are repeatable where
/// times are not: run it under `valgrind --tool=callgrind` with two counts and divide the
/// difference of the totals by the difference of the counts (the setup is the same in both).
enum ProfileMode {
    /// The operations, by the name `--profile-op` takes.
    static let operations = [
        "exists", "exists-missing", "exists-batch16", "get-4KiB", "get-if-exists-miss", "put-4KiB-noSync",
        "put-4KiB-fileSync", "list-2000", "list-100000", "delete",
    ]

    /// Parses `OP:COUNT`; nil when it is not one.
    static func parse(_ argument: String) -> (operation: String, count: Int)? {
        let parts = argument.split(separator: ":")
        guard parts.count == 2, operations.contains(String(parts[0])), let count = Int(parts[1]), count > 0 else { return nil }
        return (String(parts[0]), count)
    }

    /// Runs `operation` `count` times in a fresh directory under `parent`, then removes it.
    static func run(_ operation: String, count: Int, under parent: String) throws {
        let scratch = try ScratchDirectory(under: parent)
        defer { scratch.remove() }
        let durability: Durability = operation == "put-4KiB-fileSync" ? .fileSync : .noSync
        let storage = try LocalStorage(storagePath: scratch.path, durability: durability, removeOrphanedTempFiles: false)
        let context = "bench"
        let content = Data(repeating: 0x5a, count: 4096)
        try storage.uploadFile(file: content, fileName: "stored", context: context)
        let batch = (0..<16).map { "stored-\($0)" }
        for name in batch { try storage.uploadFile(file: content, fileName: name, context: context) }
        var found = 0
        switch operation {
        case "exists":
            for _ in 0..<count where try storage.checkIfExists("stored", context: context) { found += 1 }
        case "exists-missing":
            for _ in 0..<count where try storage.checkIfExists("missing", context: context) { found += 1 }
        case "exists-batch16":
            for _ in 0..<count { found += try storage.checkIfExists(batch, context: context).count }
        case "get-4KiB":
            for _ in 0..<count { found += try storage.downloadFile("stored", context: context).count }
        case "get-if-exists-miss":
            for _ in 0..<count where try storage.downloadFileIfExists("missing", context: context) != nil { found += 1 }
        case "put-4KiB-noSync", "put-4KiB-fileSync":
            for _ in 0..<count { try storage.uploadFile(file: content, fileName: "stored", context: context) }
        case "list-2000", "list-100000":
            // The names of storage-bench's list rows.
            let listed = "listed"
            let names = operation == "list-2000" ? 2000 : 100_000
            for index in 0..<names {
                try storage.uploadFile(file: Data(), fileName: String(format: "object-%06d", index), context: listed)
            }
            for _ in 0..<count { found += try storage.listStoredFiles(listed).count }
        case "delete":
            let names = (0..<count).map { "victim-\($0)" }
            for name in names { try storage.uploadFile(file: Data(), fileName: name, context: context) }
            // The uploads double with the count too: read deleteFile's inclusive cost instead.
            for name in names { try storage.deleteFile(name, context: context) }
        default:
            throw BenchError("--profile-op: unknown operation \(operation)")
        }
        withExtendedLifetime(found) {}
    }
}
#endif
