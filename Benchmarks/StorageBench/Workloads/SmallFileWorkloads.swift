#if Benchmark
import Foundation
import LocalStorage
import _NIOFileSystem

// The small-file suite, at .noSync, in one directory that holds a fixture of `smallFileCount`
// files of `smallFileSize` bytes (written once by the raw loop, untimed):
// - put writes `smallBatch` new files per run into that directory (deleted, untimed, after
//   each run);
// - get and exists touch `smallTouched` fixture files spread over the directory (the same ones
//   in every run);
// - delete removes `smallBatch` fixture files per run, re-created (and synced) untimed before
//   each run, so every run deletes stored files from a directory of the full size.

/// The operations of the small-file suite, in the order they run.
enum SmallOperation: String, CaseIterable, Sendable {
    case put, get, exists, batchExists = "batch-exists", delete
}

extension BenchPlan {
    static func smallSpec(_ operation: SmallOperation, settings: BenchSettings) -> WorkloadSpec {
        WorkloadSpec(
            id: "small-\(operation.rawValue)", group: .small,
            label: smallLabel(operation, settings), objectSize: settings.smallFileSize
        ) { context in try context.makeSmall(operation) }
    }

    static func smallLabel(_ operation: SmallOperation, _ settings: BenchSettings) -> String {
        let files = settings.smallFileCount.grouped, touched = settings.smallTouched.grouped
        let batch = settings.smallBatch.grouped
        switch operation {
        case .put: return "put \(batch) new files"
        case .get: return "get \(touched) of \(files)"
        case .exists: return "exists \(touched) of \(files)"
        case .batchExists: return "exists, \(settings.batchNames) names/call"
        case .delete: return "delete \(batch) files"
        }
    }

    /// Whether this build has the row: the batch row needs the engine's batch API (see
    /// `makeBatchExists`).
    static func isBuilt(_ operation: SmallOperation) -> Bool {
        #if STORAGE_BENCH_BATCH_API
        return true
        #else
        return operation != .batchExists
        #endif
    }
}

extension BenchContext {
    func makeSmall(_ operation: SmallOperation) throws -> Workload {
        let storage = try storage(.noSync)
        let size = settings.smallFileSize
        let (names, bytes) = smallFixture()
        let stride = max(1, names.count / max(1, settings.smallTouched))
        let touched = Swift.stride(from: 0, to: names.count, by: stride).prefix(settings.smallTouched).map { names[$0] }
        let touchedPaths = touched.map(path)
        let touchedBeneathRoot = touched.map(pathBeneathRoot)
        let touchedNIO = touchedPaths.map { FilePath($0) }
        let batch = min(settings.smallBatch, names.count)
        // put writes new names; delete removes (and re-creates) the first `batch` fixture files.
        let newNames = (0..<batch).map { "new-\($0)" }
        let newTemps = newNames.map { ".raw-tmp-" + $0 }
        let newNIO = newNames.map { FilePath(path($0)) }
        let victims = Array(names.prefix(batch))
        let victimPaths = victims.map(path)
        let context = self.context, directory = directoryFD, root = rootFD
        let expected = touched.count
        let fixture = { try self.ensureFixture(names: names, bytes: bytes) }
        let removeNew = { RawSyscalls.removeAll(directory: directory, names: newNames) }
        let recreateVictims = {
            try bytes.withUnsafeBytes { try RawSyscalls.createFiles($0, directory: directory, names: victims) }
            self.settle()
        }

        var contenders: [Contender]
        var tearDown: () throws -> Void = {}
        let operations: Int
        switch operation {
        case .put:
            operations = batch
            tearDown = removeNew
            contenders = [
                Contender(
                    kind: .engine, method: "LocalStorage.uploadFile(file: Data, ...) at .noSync",
                    run: {
                        for name in newNames { try storage.uploadFile(file: bytes, fileName: name, context: context) }
                        return nil
                    }, reset: removeNew),
                Contender(
                    kind: .raw, method: "openat(temp) write close renameat",
                    run: {
                        try bytes.withUnsafeBytes { buffer in
                            for index in newNames.indices {
                                try RawSyscalls.put(
                                    buffer, directory: directory, temp: newTemps[index], name: newNames[index],
                                    durability: .noSync)
                            }
                        }
                        return nil
                    }, reset: removeNew),
            ]
            contenders += NIOBaseline.contenders(
                "Data.write(toFileAt:options: .newFile(replaceExisting: true))", count: batch, fromSync: false,
                reset: removeNew
            ) { index in try await NIOBaseline.put(bytes, path: newNIO[index]) }
        case .get:
            operations = touched.count
            contenders = [
                Contender(
                    kind: .engine, method: "LocalStorage.downloadFile(_:context:)",
                    run: {
                        for name in touched { _ = try storage.downloadFile(name, context: context) }
                        return nil
                    }),
                Contender(
                    kind: .raw, method: "openat fstat malloc read close",
                    run: {
                        for name in touched { _ = try RawSyscalls.get(directory: directory, name: name) }
                        return nil
                    }),
                Contender(
                    kind: .confined, method: "openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) fstat malloc read close",
                    run: {
                        for path in touchedBeneathRoot { _ = try RawSyscalls.confinedGet(root: root, path: path) }
                        return nil
                    }),
                Contender(
                    kind: .foundation, method: "Data(contentsOf:)",
                    run: {
                        for path in touchedPaths { _ = try FoundationBaseline.get(path: path) }
                        return nil
                    }),
            ]
            contenders += NIOBaseline.contenders(
                "ByteBuffer(contentsOf:maximumSizeAllowed:)", count: touched.count, fromSync: false
            ) { index in _ = try await NIOBaseline.get(path: touchedNIO[index]) }
        case .exists:
            operations = touched.count
            contenders = [
                Contender(
                    kind: .engine, method: "LocalStorage.checkIfExists(_:context:)",
                    run: {
                        var found = 0
                        for name in touched where try storage.checkIfExists(name, context: context) { found += 1 }
                        try expectCount(found, expected, "checkIfExists")
                        return nil
                    }),
                Contender(
                    kind: .raw, method: "fstatat(AT_SYMLINK_NOFOLLOW) on the held dir fd",
                    run: {
                        var found = 0
                        for name in touched where RawSyscalls.exists(directory: directory, name: name) { found += 1 }
                        try expectCount(found, expected, "fstatat")
                        return nil
                    }),
                Contender(
                    kind: .confined,
                    method: "openat2(O_PATH|O_NOFOLLOW, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) of context/name from the "
                        + "root fd, fstat, close",
                    run: {
                        var found = 0
                        for path in touchedBeneathRoot where RawSyscalls.confinedExists(root: root, path: path) { found += 1 }
                        try expectCount(found, expected, "openat2+fstat")
                        return nil
                    }),
                Contender(
                    kind: .foundation, method: "FileManager.fileExists(atPath:)",
                    run: {
                        var found = 0
                        for path in touchedPaths where FoundationBaseline.exists(path: path) { found += 1 }
                        try expectCount(found, expected, "fileExists")
                        return nil
                    }),
            ]
            contenders += NIOBaseline.contenders(
                "FileSystem.info(forFileAt:infoAboutSymbolicLink: true)?.type == .regular", count: touched.count,
                fromSync: true
            ) { index in
                guard try await NIOBaseline.exists(path: touchedNIO[index]) else { throw BenchError("info: no file") }
            }
        case .batchExists:
            operations = touched.count
            contenders = try makeBatchExists(touched: touched, storage: storage)
        case .delete:
            operations = batch
            tearDown = { self.dropFixture() }
            contenders = [
                Contender(
                    kind: .engine, method: "LocalStorage.deleteFile(_:context:) at .noSync", prepare: recreateVictims,
                    run: {
                        for name in victims { try storage.deleteFile(name, context: context) }
                        return nil
                    }),
                Contender(
                    kind: .raw, method: "unlinkat", prepare: recreateVictims,
                    run: {
                        for name in victims { try RawSyscalls.delete(directory: directory, name: name, durability: .noSync) }
                        return nil
                    }),
                Contender(
                    kind: .foundation, method: "FileManager.removeItem(atPath:)", prepare: recreateVictims,
                    run: {
                        for path in victimPaths { try FoundationBaseline.delete(path: path) }
                        return nil
                    }),
            ]
        }

        return Workload(
            id: "small-\(operation.rawValue)", group: .small,
            label: BenchPlan.smallLabel(operation, settings),
            objectSize: size, operations: operations,
            bytesPerRun: operation == .put || operation == .get ? size * operations : 0,
            metric: .microsecondsPerOperation,
            durability: operation == .put || operation == .delete ? .noSync : nil,
            writes: operation == .put || operation == .delete,
            contenders: contenders, setUp: fixture, tearDown: tearDown)
    }

    /// Batch exists: the engine's `checkIfExists(_ fileNames: [String], context:) -> [Bool]`, one
    /// call per `batchNames` names, against one fstatat per name on the held directory.
    ///
    /// The batch API is the lead engineer's to add. Until it is on this branch the row is
    /// compiled out; to switch it on, add `.define("STORAGE_BENCH_BATCH_API")` to the
    /// StorageBench target's `swiftSettings` in Package.swift.
    private func makeBatchExists(touched: [String], storage: LocalStorage) throws -> [Contender] {
        #if STORAGE_BENCH_BATCH_API
        let context = self.context, directory = directoryFD
        let calls = stride(from: 0, to: touched.count, by: settings.batchNames).map {
            Array(touched[$0..<min($0 + settings.batchNames, touched.count)])
        }
        let expected = touched.count
        return [
            Contender(
                kind: .engine, method: "LocalStorage.checkIfExists(_: [String], context:) -> [Bool]",
                run: {
                    var found = 0
                    for names in calls { found += try storage.checkIfExists(names, context: context).filter { $0 }.count }
                    try expectCount(found, expected, "checkIfExists([String])")
                    return nil
                }),
            Contender(
                kind: .raw, method: "fstatat(AT_SYMLINK_NOFOLLOW) per name on the held dir fd",
                run: {
                    var found = 0
                    for names in calls {
                        for name in names where RawSyscalls.exists(directory: directory, name: name) { found += 1 }
                    }
                    try expectCount(found, expected, "fstatat")
                    return nil
                }),
        ]
        #else
        throw BenchError("built without STORAGE_BENCH_BATCH_API")
        #endif
    }
}

/// A sanity check inside the timed loops: a listing or existence check that misses files is a
/// bug, not a fast result.
func expectCount(_ found: Int, _ expected: Int, _ call: String) throws {
    if found != expected { throw BenchError("\(call) saw \(found) of \(expected) files") }
}
#endif
