#if Benchmark
import Foundation
import LocalStorage

/// The Foundation baseline: the calls a Swift programmer would write without this package.
///
/// - put: `Data.write(to:options: .atomic)`. On Linux, swift-foundation writes a temp file,
///   fsyncs it and renames it, so this already matches `.fileSync`; it has no way to skip the
///   fsync, so in `.noSync` rows it does more work than the engine (that is Foundation's cost).
///   At `.fullSync` the directory is then fsynced through `FileHandle.synchronize()`.
/// - ingest: `FileManager.copyItem(atPath:toPath:)`.
/// - get: `Data(contentsOf:)`.
/// - exists, list, delete: `FileManager.fileExists(atPath:)`,
///   `contentsOfDirectory(atPath:)` (unsorted: what a caller gets; the engine sorts), `removeItem(atPath:)`.
enum FoundationBaseline {
    static func put(_ data: Data, path: String, directoryPath: String, durability: Durability) throws {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        if durability == .fullSync { try syncDirectory(directoryPath) }
    }

    /// fsync of a directory, the Foundation way.
    static func syncDirectory(_ path: String) throws {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path, isDirectory: true))
        try handle.synchronize()
        try handle.close()
    }

    static func ingest(from source: String, to destination: String) throws {
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    static func get(path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    static func exists(path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    static func list(directoryPath: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directoryPath)
    }

    static func delete(path: String) throws {
        try FileManager.default.removeItem(atPath: path)
    }
}
#endif
