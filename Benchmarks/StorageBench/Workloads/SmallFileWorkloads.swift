import Foundation
import LocalStorage

// The small-file suite, at .noSync, in one directory that holds a fixture of `smallFileCount`
// files of `smallFileSize` bytes (written once by the raw loop, untimed):
// - put writes `smallBatch` new files per repetition into that directory (deleted, untimed,
//   after each run);
// - get and exists touch every fixture file; list lists the directory;
// - delete removes `smallBatch` fixture files per repetition, re-created (and synced) untimed
//   before each run, so every run deletes stored files from a directory of the full size.

/// The operations of the small-file suite, in the order they run.
enum SmallOperation: String, CaseIterable, Sendable {
    case put, get, exists, list, delete
}

extension BenchPlan {
    static func smallSpec(_ operation: SmallOperation, settings: BenchSettings) -> WorkloadSpec {
        WorkloadSpec(
            id: "small-\(operation.rawValue)", group: .small,
            label: smallLabel(operation, settings), objectSize: settings.smallFileSize
        ) { context in try context.makeSmall(operation) }
    }

    static func smallLabel(_ operation: SmallOperation, _ settings: BenchSettings) -> String {
        let files = settings.smallFileCount.grouped, batch = settings.smallBatch.grouped
        let size = formatSize(settings.smallFileSize)
        switch operation {
        case .put: return "put \(batch) new \(size) (dir of \(files))"
        case .get: return "get \(files) × \(size)"
        case .exists: return "exists × \(files)"
        case .list: return "list \(files) names"
        case .delete: return "delete \(batch) (dir of \(files))"
        }
    }
}

extension BenchContext {
    func makeSmall(_ operation: SmallOperation) throws -> Workload {
        let storage = try storage(.noSync)
        let size = settings.smallFileSize
        let bytes = makePayload(size: size, seed: 4096)
        let names = (0..<settings.smallFileCount).map { "file-\($0)" }
        let paths = names.map(path)
        let batch = min(settings.smallBatch, names.count)
        // put writes new names; delete removes (and re-creates) the first `batch` fixture files.
        let newNames = (0..<batch).map { "new-\($0)" }
        let newTemps = newNames.map { ".raw-tmp-" + $0 }
        let newPaths = newNames.map(path)
        let victims = Array(names.prefix(batch))
        let victimPaths = victims.map(path)
        let context = self.context, directory = directoryFD, directoryPath = self.directoryPath
        let listings = settings.listingsPerRepetition
        let expected = names.count
        let fixture = { try self.ensureFixture(names: names, bytes: bytes) }
        let removeNew = { RawSyscalls.removeAll(directory: directory, names: newNames) }
        let recreateVictims = {
            try bytes.withUnsafeBytes { try RawSyscalls.createFiles($0, directory: directory, names: victims) }
            self.settle()
        }

        let engine: Contender, raw: Contender, foundation: Contender
        var tearDown: () throws -> Void = {}
        let operations: Int
        switch operation {
        case .put:
            operations = batch
            tearDown = removeNew
            engine = Contender(kind: .engine, method: "LocalStorage.uploadFile(file: Data, ...) at .noSync", run: {
                for name in newNames { try storage.uploadFile(file: bytes, fileName: name, context: context) }
                return nil
            }, reset: removeNew)
            raw = Contender(kind: .raw, method: "openat(temp) write close renameat", run: {
                try bytes.withUnsafeBytes { buffer in
                    for index in newNames.indices {
                        try RawSyscalls.put(
                            buffer, directory: directory, temp: newTemps[index], name: newNames[index], durability: .noSync)
                    }
                }
                return nil
            }, reset: removeNew)
            foundation = Contender(kind: .foundation, method: "Data.write(to:options: .atomic)", run: {
                for path in newPaths { try bytes.write(to: URL(fileURLWithPath: path), options: .atomic) }
                return nil
            }, reset: removeNew)
        case .get:
            operations = names.count
            engine = Contender(kind: .engine, method: "LocalStorage.downloadFile(_:context:)", run: {
                for name in names { _ = try storage.downloadFile(name, context: context) }
                return nil
            })
            raw = Contender(kind: .raw, method: "openat fstat malloc read close", run: {
                for name in names { _ = try RawSyscalls.get(directory: directory, name: name) }
                return nil
            })
            foundation = Contender(kind: .foundation, method: "Data(contentsOf:)", run: {
                for path in paths { _ = try FoundationBaseline.get(path: path) }
                return nil
            })
        case .exists:
            operations = names.count
            engine = Contender(kind: .engine, method: "LocalStorage.checkIfExists(_:context:)", run: {
                var found = 0
                for name in names where try storage.checkIfExists(name, context: context) { found += 1 }
                try expectCount(found, expected, "checkIfExists")
                return nil
            })
            raw = Contender(kind: .raw, method: "fstatat(AT_SYMLINK_NOFOLLOW)", run: {
                var found = 0
                for name in names where RawSyscalls.exists(directory: directory, name: name) { found += 1 }
                try expectCount(found, expected, "fstatat")
                return nil
            })
            foundation = Contender(kind: .foundation, method: "FileManager.fileExists(atPath:)", run: {
                var found = 0
                for path in paths where FoundationBaseline.exists(path: path) { found += 1 }
                try expectCount(found, expected, "fileExists")
                return nil
            })
        case .list:
            operations = listings
            engine = Contender(kind: .engine, method: "LocalStorage.listStoredFiles(_:)", run: {
                for _ in 0..<listings { try expectCount(try storage.listStoredFiles(context).count, expected, "listStoredFiles") }
                return nil
            })
            raw = Contender(kind: .raw, method: "openat(dir) getdents64 (64 KiB) String sort close", run: {
                for _ in 0..<listings { try expectCount(try RawSyscalls.list(directory: directory).count, expected, "getdents64") }
                return nil
            })
            foundation = Contender(kind: .foundation, method: "FileManager.contentsOfDirectory(atPath:).sorted()", run: {
                for _ in 0..<listings {
                    try expectCount(try FoundationBaseline.list(directoryPath: directoryPath).count, expected, "contentsOfDirectory")
                }
                return nil
            })
        case .delete:
            operations = batch
            tearDown = { self.dropFixture() }
            engine = Contender(
                kind: .engine, method: "LocalStorage.deleteFile(_:context:) at .noSync", prepare: recreateVictims,
                run: {
                    for name in victims { try storage.deleteFile(name, context: context) }
                    return nil
                })
            raw = Contender(kind: .raw, method: "unlinkat", prepare: recreateVictims, run: {
                for name in victims { try RawSyscalls.delete(directory: directory, name: name, durability: .noSync) }
                return nil
            })
            foundation = Contender(
                kind: .foundation, method: "FileManager.removeItem(atPath:)", prepare: recreateVictims,
                run: {
                    for path in victimPaths { try FoundationBaseline.delete(path: path) }
                    return nil
                })
        }

        var notes: [String] = []
        if operation == .list { notes.append("list: one operation = one listing of \(expected.grouped) names, sorted") }
        return Workload(
            id: "small-\(operation.rawValue)", group: .small,
            label: BenchPlan.smallLabel(operation, settings),
            objectSize: size, operations: operations,
            bytesPerRepetition: operation == .put || operation == .get ? size * operations : 0,
            metric: .operationsPerSecond,
            repetitions: settings.repetitions,
            durability: operation == .put || operation == .delete ? .noSync : nil,
            directStream: nil, threads: nil,
            contenders: [engine, raw, foundation],
            targets: [.atLeast(0.9, of: .raw), .ahead(of: .foundation)],
            notes: notes, setUp: fixture, tearDown: tearDown)
    }
}

/// A sanity check inside the timed loops: a listing or existence check that misses files is a
/// bug, not a fast result.
func expectCount(_ found: Int, _ expected: Int, _ call: String) throws {
    if found != expected { throw BenchError("\(call) saw \(found) of \(expected) files") }
}
