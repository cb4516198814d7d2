#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage

// Listings: a context of its own holding `count` empty files (created by the raw loop, untimed,
// and removed after the row), listed `listings` times per run. LocalStorage and the raw loop
// return the names sorted; Foundation's contentsOfDirectory and Python's os.listdir return
// them in directory order, as their callers get them.

extension BenchPlan {
    static func listSpec(count: Int, listings: Int) -> WorkloadSpec {
        WorkloadSpec(id: "list-\(count)", group: .list, label: "list \(count.grouped) names", objectSize: 0) { context in
            try context.makeList(count: count, listings: listings)
        }
    }
}

extension BenchContext {
    func makeList(count: Int, listings: Int) throws -> Workload {
        let storage = try storage(.noSync)
        let name = "list-\(count)"
        let listed = subcontext(name)
        let listedPath = path(name)
        let names = (0..<count).map { String(format: "object-%06d", $0) }
        let python = self.python
        let fd = DirectoryDescriptor()
        let open = {
            if mkdir(listedPath, 0o755) != 0 && errno != EEXIST {
                throw BenchError("cannot create \(listedPath): \(errnoDescription(errno))")
            }
            fd.value = try BenchContext.openDirectory(listedPath)
            try RawSyscalls.createEmptyFiles(directory: fd.value, names: names)
            self.settle()
            if let python { fd.python = try PythonLister(python, directory: listedPath, expected: count) }
        }
        let remove = {
            fd.python?.stop()
            fd.python = nil
            if fd.value >= 0 {
                RawSyscalls.removeAll(directory: fd.value, names: names)
                _ = CLocalStorage_close(fd.value)
                fd.value = -1
            }
            rmdir(listedPath)
        }

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.listStoredFiles(_:) (sorted)",
                run: {
                    for _ in 0..<listings { try expectCount(try storage.listStoredFiles(listed).count, count, "listStoredFiles") }
                    return nil
                }),
            Contender(
                kind: .raw, method: "openat(dir) getdents64 (64 KiB) String sort close",
                run: {
                    for _ in 0..<listings { try expectCount(try RawSyscalls.list(directory: fd.value).count, count, "getdents64") }
                    return nil
                }),
            Contender(
                kind: .foundation, method: "FileManager.contentsOfDirectory(atPath:) (unsorted)",
                run: {
                    for _ in 0..<listings {
                        try expectCount(try FoundationBaseline.list(directoryPath: listedPath).count, count, "contentsOfDirectory")
                    }
                    return nil
                }),
        ]
        var notes: [String] = []
        if python != nil {
            contenders.append(
                Contender(
                    kind: .python, method: "python3 os.listdir (unsorted), timed inside the interpreter",
                    run: {
                        guard let lister = fd.python else { throw BenchError("python3 not started") }
                        return try lister.list(listings)
                    }))
        } else {
            notes.append("list: no python3 on PATH, so the Python column is empty")
        }
        return Workload(
            id: "list-\(count)", group: .list, label: "list \(count.grouped) names",
            objectSize: 0, operations: listings, bytesPerRun: 0,
            metric: count >= 20_000 ? .millisecondsPerOperation : .microsecondsPerOperation, writes: false,
            contenders: contenders, notes: notes, setUp: open, tearDown: remove)
    }
}

/// What a listing row opens in its set-up and closes in its tear-down: the directory's
/// descriptor and the Python process that lists it.
private final class DirectoryDescriptor {
    var value: CInt = -1
    var python: PythonLister?
}
#endif
