#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage

// Typed arrays against the same bytes as Data, uncontended locks, and uploads on a root kept at
// its CacheLimits against uploads on a root without limits.

extension BenchContext {
    /// `uploadArray`/`downloadArray` of `arrayBytes` of Float against `uploadFile`/`downloadFile`
    /// of the same bytes as `Data`, at .noSync (a page-cache read for the gets).
    func makeArray(_ row: CacheRow, put: Bool) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let context = subcontext("arrays")
        let count = settings.arrayBytes / MemoryLayout<Float>.stride
        let floats = (0..<count).map { Float($0 % 65_536) * 0.5 }
        let data = floats.withUnsafeBytes { Data($0) }
        let arrayName = put ? "array-put" : "array-source"
        let dataName = put ? "data-put" : "data-source"

        let contenders: [Contender]
        var setUp: () throws -> Void = {}
        if put {
            contenders = [
                Contender(
                    kind: .engine, method: "LocalStorage.uploadArray([Float], ...) at .noSync",
                    run: {
                        try storage.uploadArray(floats, fileName: arrayName, context: context)
                        return nil
                    }, reset: { try storage.deleteFile(arrayName, context: context) }),
                Contender(
                    kind: .engineData, method: "LocalStorage.uploadFile(file: Data, ...) at .noSync",
                    run: {
                        try storage.uploadFile(file: data, fileName: dataName, context: context)
                        return nil
                    }, reset: { try storage.deleteFile(dataName, context: context) }),
            ]
        } else {
            contenders = [
                Contender(
                    kind: .engine, method: "LocalStorage.downloadArray(Float.self, ...) -> [Float]",
                    run: {
                        let read = try storage.downloadArray(Float.self, fileName: arrayName, context: context)
                        guard read.count == count else { throw BenchError("downloadArray returned \(read.count) elements") }
                        return read
                    }),
                Contender(
                    kind: .engineData, method: "LocalStorage.downloadFile(_:context:) -> Data",
                    run: {
                        let read = try storage.downloadFile(dataName, context: context)
                        guard read.count == data.count else { throw BenchError("downloadFile returned \(read.count) bytes") }
                        return read
                    }),
            ]
            setUp = {
                try storage.uploadArray(floats, fileName: arrayName, context: context)
                try storage.uploadFile(file: data, fileName: dataName, context: context)
                self.settle()
            }
        }
        return Workload(
            id: id, group: .cache, label: label, objectSize: settings.arrayBytes, operations: 1,
            bytesPerRun: settings.arrayBytes, metric: .gigabytesPerSecond, durability: put ? .noSync : nil,
            writes: put, contenders: contenders, setUp: setUp,
            tearDown: {
                for name in [arrayName, dataName] { try? storage.deleteFile(name, context: context) }
            })
    }

    /// `withLock` with an empty body, uncontended, against the raw open-file-description lock
    /// and unlock of one byte of a held descriptor (what a kernel lock costs at least).
    func makeLock(_ row: CacheRow) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let storage = try storage(.noSync)
        let context = self.context
        let cycles = settings.lockCycles
        let lockPath = try scratchDirectory("locks") + "/raw-lock"
        let fd = CLocalStorage_openat(AT_FDCWD, lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try RawSyscalls.check(fd, "openat")

        return Workload(
            id: id, group: .cache, label: label, objectSize: 0, operations: cycles, bytesPerRun: 0,
            metric: .microsecondsPerOperation, writes: false,
            contenders: [
                Contender(
                    kind: .engine, method: "LocalStorage.withLock(\"bench-lock\", context:) { }",
                    run: {
                        for _ in 0..<cycles { try storage.withLock("bench-lock", context: context) {} }
                        return nil
                    }),
                Contender(
                    kind: .raw, method: "fcntl(F_OFD_SETLKW, F_WRLCK) + fcntl(F_OFD_SETLK, F_UNLCK) of one byte",
                    run: {
                        for _ in 0..<cycles {
                            try RawSyscalls.check(
                                CLocalStorage_ofd_lock(fd, CLocalStorage_F_OFD_SETLKW, Int16(F_WRLCK), 0, 1), "fcntl(lock)")
                            try RawSyscalls.check(
                                CLocalStorage_ofd_lock(fd, CLocalStorage_F_OFD_SETLK, Int16(F_UNLCK), 0, 1), "fcntl(unlock)")
                        }
                        return nil
                    }),
            ],
            bounds: Targets.bounds(id: id, settings: settings),
            tearDown: { _ = CLocalStorage_close(fd) })
    }

    /// 4 KiB uploads of new names to a root opened with `CacheLimits(maxBytes:)` and filled to
    /// that limit, so that uploads keep evicting, against the same uploads to a root of the same
    /// size opened without limits (its new files deleted, untimed, after each run), and against
    /// the least an evicting cache does: the raw put of as many new files plus unlinkat of as
    /// many of the oldest (written and synced earlier, as evicted files are).
    func makeEviction(_ row: CacheRow) throws -> Workload {
        let (id, label) = BenchPlan.cacheNames(row, settings)
        let size = settings.smallFileSize
        let limitFiles = settings.evictionLimitFiles
        let batch = settings.evictionBatch
        let maxBytes = Int64(limitFiles * size)
        let limitedRoot = try scratchDirectory("eviction/limited")
        let plainRoot = try scratchDirectory("eviction/plain")
        let rawDirectory = try scratchDirectory("eviction/raw")
        let limited: LocalStorage
        let plain: LocalStorage
        do {
            limited = try LocalStorage(
                storagePath: limitedRoot, durability: .noSync, limits: CacheLimits(maxBytes: maxBytes))
            plain = try LocalStorage(storagePath: plainRoot, durability: .noSync)
        } catch {
            throw BenchError("cannot open the eviction rows' roots: \(error)")
        }
        let context = self.context
        let bytes = makePayload(size: size, seed: 4097)
        let fill = (0..<limitFiles).map { "fill-\($0)" }
        let newNames = (0..<batch).map { "new-\($0)" }
        let runs = RunCounter()
        let removeNew = { for name in newNames { try plain.deleteFile(name, context: context) } }
        let rawFD = try BenchContext.openDirectory(rawDirectory)
        let rawQueue = NameQueue(fill)

        return Workload(
            id: id, group: .cache, label: label, objectSize: size, operations: batch, bytesPerRun: size * batch,
            metric: .microsecondsPerOperation, durability: .noSync,
            contenders: [
                Contender(
                    kind: .engine,
                    method: "LocalStorage(limits: CacheLimits(maxBytes: \(limitFiles.grouped) × 4 KiB)).uploadFile of new names",
                    run: {
                        let run = runs.next()
                        for index in 0..<batch {
                            try limited.uploadFile(file: bytes, fileName: "run\(run)-\(index)", context: context)
                        }
                        return nil
                    }),
                Contender(
                    kind: .engineUnbounded, method: "LocalStorage (no limits).uploadFile of new names",
                    run: {
                        for name in newNames { try plain.uploadFile(file: bytes, fileName: name, context: context) }
                        return nil
                    }, reset: removeNew),
                Contender(
                    kind: .raw,
                    method: "openat(temp) write close renameat of each new name, then unlinkat of as many "
                        + "of the oldest files",
                    run: {
                        let run = runs.next()
                        try bytes.withUnsafeBytes { buffer in
                            for index in 0..<batch {
                                let name = "raw\(run)-\(index)"
                                try RawSyscalls.put(
                                    buffer, directory: rawFD, temp: ".raw-tmp-" + name, name: name, durability: .noSync)
                                rawQueue.append(name)
                            }
                        }
                        for name in rawQueue.removeOldest(batch) {
                            try RawSyscalls.delete(directory: rawFD, name: name, durability: .noSync)
                        }
                        return nil
                    }),
            ],
            alsoShown: [RatioPair(numerator: .engine, denominator: .raw)],
            notes: [
                "\(id): both roots hold \(limitFiles.grouped) files of 4 KiB before the first run; the limited one "
                    + "is at its limit (maxBytes = \(limitFiles.grouped) × 4 KiB), so its uploads (\(batch.grouped) new "
                    + "names per run, 10% of the limit) keep triggering trims (to 90%, least recently used first) "
                    + "inside the timed runs. Unlinking a file whose blocks are allocated is the bulk of an "
                    + "eviction's cost on many file systems (more so when mounted with discard); raw shows the "
                    + "least an evicting cache pays: the same puts plus unlinkat of as many of its oldest files."
            ],
            setUp: {
                for name in fill {
                    try limited.uploadFile(file: bytes, fileName: name, context: context)
                    try plain.uploadFile(file: bytes, fileName: name, context: context)
                }
                try bytes.withUnsafeBytes { try RawSyscalls.createFiles($0, directory: rawFD, names: fill) }
                self.settle()
            },
            tearDown: {
                _ = CLocalStorage_close(rawFD)
                for path in [limitedRoot, plainRoot, rawDirectory] { try? FileManager.default.removeItem(atPath: path) }
            },
            observations: {
                guard let usage = try? limited.usage() else { return ["\(id): usage() of the limited root failed."] }
                let bound = Double(maxBytes) * 1.1 + Double(size)
                return [
                    "\(id): after the rounds the limited root held \(usage.files.grouped) files, "
                        + String(format: "%.1f", Double(usage.bytes) / Double(1 << 20)) + " MiB (limit "
                        + String(format: "%.1f", Double(maxBytes) / Double(1 << 20)) + " MiB; "
                        + (Double(usage.bytes) <= bound ? "within" : "OVER") + " the limit + 10% + one file)."
                ]
            })
    }
}

/// The raw eviction loop's files, oldest first.
final class NameQueue {
    private var names: [String]
    private var head = 0

    init(_ names: [String]) { self.names = names }

    func append(_ name: String) { names.append(name) }

    /// Takes the `count` oldest names out of the queue.
    func removeOldest(_ count: Int) -> ArraySlice<String> {
        let end = min(names.count, head + count)
        defer {
            head = end
            // Drop what was taken once it is most of the storage.
            if head > names.count / 2 {
                names.removeFirst(head)
                head = 0
            }
        }
        return names[head..<end]
    }
}
#endif
