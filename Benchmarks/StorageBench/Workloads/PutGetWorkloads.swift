#if Benchmark
import Foundation
import LocalStorage
import _NIOFileSystem

// Put (Data → store) and get (store → Data) at each size. Objects below `batchBytes` are timed
// as a batch of many operations per run, so every run lasts long enough to time.

extension BenchPlan {
    static func putSpec(size: Int, durability: Durability) -> WorkloadSpec {
        WorkloadSpec(
            id: "put-\(sizeID(size))-\(durability.name)", group: .put,
            label: "put \(formatSize(size)) .\(durability.name)", objectSize: size
        ) { context in try context.makePut(size: size, durability: durability) }
    }

    static func mappedGetSpec(size: Int) -> WorkloadSpec {
        WorkloadSpec(
            id: "get-\(sizeID(size))-mapped", group: .get, label: "get \(formatSize(size)) mapped", objectSize: size
        ) { context in try context.makeMappedGet(size: size) }
    }

    static func getSpec(size: Int) -> WorkloadSpec {
        WorkloadSpec(
            id: "get-\(sizeID(size))", group: .get, label: "get \(formatSize(size))", objectSize: size
        ) { context in try context.makeGet(size: size) }
    }
}

/// µs per operation below 1 MiB, GB/s from 1 MiB up.
func sizeMetric(_ size: Int) -> Metric { size < 1 << 20 ? .microsecondsPerOperation : .gigabytesPerSecond }

extension BenchContext {
    /// A put at `durability`. Foundation's `.atomic` write always fsyncs, so it runs only in the
    /// `.fileSync` and `.fullSync` rows; NIO's write never does, so it runs only in `.noSync`.
    func makePut(size: Int, durability: Durability) throws -> Workload {
        let operations = settings.putOperations(objectSize: size, durability: durability)
        let storage = try storage(durability)
        let payload = payload(size: size)
        let names = (0..<operations).map { "put-\($0)" }
        let temps = names.map { ".raw-tmp-" + $0 }
        let paths = names.map(path)
        let nioPaths = paths.map { FilePath($0) }
        let context = self.context, directory = directoryFD, directoryPath = self.directoryPath
        let removeOutputs = { RawSyscalls.removeAll(directory: directory, names: names) }

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage(durability: .\(durability.name)).uploadFile(file: Data, ...)",
                run: {
                    for name in names { try storage.uploadFile(file: payload, fileName: name, context: context) }
                    return nil
                },
                reset: removeOutputs),
            Contender(
                kind: .raw,
                method: "openat(temp) write " + (durability >= .fileSync ? "fsync " : "")
                    + "close renameat" + (durability == .fullSync ? " fsync(dir)" : ""),
                run: {
                    try payload.withUnsafeBytes { bytes in
                        for index in names.indices {
                            try RawSyscalls.put(
                                bytes, directory: directory, temp: temps[index], name: names[index],
                                durability: durability)
                        }
                    }
                    return nil
                },
                reset: removeOutputs),
        ]
        if durability == .noSync {
            contenders += NIOBaseline.contenders(
                "Data.write(toFileAt:options: .newFile(replaceExisting: true))", count: operations,
                fromSync: size < 1 << 20, reset: removeOutputs
            ) { index in try await NIOBaseline.put(payload, path: nioPaths[index]) }
        } else {
            contenders.append(
                Contender(
                    kind: .foundation,
                    method: "Data.write(to:options: .atomic)"
                        + (durability == .fullSync ? " + FileHandle(dir).synchronize()" : ""),
                    run: {
                        for path in paths {
                            try FoundationBaseline.put(payload, path: path, directoryPath: directoryPath, durability: durability)
                        }
                        return nil
                    },
                    reset: removeOutputs))
        }
        if size >= 1 << 20 {
            let copier = MemcpyBaseline(capacity: size)
            contenders.append(
                Contender(
                    kind: .memcpy, method: "memcpy into a touched buffer",
                    run: {
                        copier.copy(payload, times: operations)
                        return nil
                    }))
        }
        return Workload(
            id: "put-\(sizeID(size))-\(durability.name)", group: .put,
            label: "put \(formatSize(size)) .\(durability.name)",
            objectSize: size, operations: operations, bytesPerRun: size * operations, metric: sizeMetric(size),
            durability: durability, contenders: contenders, tearDown: removeOutputs)
    }

    /// A get of one stored file, `operations` times per run (a page-cache read after the warm-up).
    func makeGet(size: Int) throws -> Workload {
        let operations = settings.getOperations(objectSize: size)
        let storage = try storage(.noSync)
        let payload = payload(size: size)
        let name = "get-source"
        let path = path(name)
        let nioPath = FilePath(path)
        let confinedPath = pathBeneathRoot(name)
        let context = self.context, directory = directoryFD, root = rootFD
        let small = size < 1 << 20

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.downloadFile(_:context:) -> Data",
                run: {
                    var last = Data()
                    for _ in 0..<operations { last = try storage.downloadFile(name, context: context) }
                    return last
                }),
            Contender(
                kind: .raw, method: "openat fstat malloc read close",
                run: {
                    var last = Data()
                    for _ in 0..<operations { last = try RawSyscalls.get(directory: directory, name: name) }
                    return last
                }),
        ]
        if small {
            contenders.append(
                Contender(
                    kind: .confined, method: "openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) fstat malloc read close",
                    run: {
                        var last = Data()
                        for _ in 0..<operations { last = try RawSyscalls.confinedGet(root: root, path: confinedPath) }
                        return last
                    }))
        }
        contenders.append(
            Contender(
                kind: .foundation, method: "Data(contentsOf:)",
                run: {
                    var last = Data()
                    for _ in 0..<operations { last = try FoundationBaseline.get(path: path) }
                    return last
                }))
        if Int64(size) <= NIOBaseline.readLimit.bytes {
            contenders += NIOBaseline.contenders(
                "ByteBuffer(contentsOf:maximumSizeAllowed:)", count: operations, fromSync: small
            ) { _ in _ = try await NIOBaseline.get(path: nioPath) }
        }
        if !small {
            let copier = MemcpyBaseline(capacity: size)
            contenders.append(
                Contender(
                    kind: .memcpy, method: "memcpy into a touched buffer",
                    run: {
                        copier.copy(payload, times: operations)
                        return nil
                    }))
        }
        return Workload(
            id: "get-\(sizeID(size))", group: .get, label: "get \(formatSize(size))",
            objectSize: size, operations: operations, bytesPerRun: size * operations, metric: sizeMetric(size),
            writes: false, contenders: contenders,
            setUp: {
                // The one source every contender reads, written once; the warm-up round then
                // brings it into the page cache, so every timed read is a page-cache read.
                try payload.withUnsafeBytes { bytes in
                    try RawSyscalls.put(bytes, directory: directory, temp: ".raw-tmp-" + name, name: name, durability: .fileSync)
                }
            },
            tearDown: { RawSyscalls.removeAll(directory: directory, names: [name]) })
    }

    /// Mapped get: the engine's `downloadFile(_:context:mapped: true)` against mmap on the shim and
    /// `Data(contentsOf:options: .alwaysMapped)`. A mapping that is never read costs nothing, so
    /// every contender reads one byte of every page (the sum is returned so it cannot be elided);
    /// the unmapping happens after the clock stops.
    func makeMappedGet(size: Int) throws -> Workload {
        let storage = try storage(.noSync)
        let payload = payload(size: size)
        let name = "get-source"
        let path = path(name)
        let context = self.context, directory = directoryFD

        return Workload(
            id: "get-\(sizeID(size))-mapped", group: .get, label: "get \(formatSize(size)) mapped",
            objectSize: size, operations: 1, bytesPerRun: size, metric: .gigabytesPerSecond, writes: false,
            contenders: [
                Contender(
                    kind: .engine, method: "LocalStorage.downloadFile(_:context:mapped: true), one byte read per page",
                    run: {
                        let data = try storage.downloadFile(name, context: context, mapped: true)
                        return (data, touchPages(data))
                    }),
                Contender(
                    kind: .raw, method: "openat fstat mmap close, one byte read per page",
                    run: {
                        let data = try RawSyscalls.mappedGet(directory: directory, name: name)
                        return (data, touchPages(data))
                    }),
                Contender(
                    kind: .foundation, method: "Data(contentsOf:options: .alwaysMapped), one byte read per page",
                    run: {
                        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
                        return (data, touchPages(data))
                    }),
            ],
            setUp: {
                try payload.withUnsafeBytes { bytes in
                    try RawSyscalls.put(bytes, directory: directory, temp: ".raw-tmp-" + name, name: name, durability: .fileSync)
                }
            },
            tearDown: { RawSyscalls.removeAll(directory: directory, names: [name]) })
    }
}

/// Reads one byte of every 4 KiB page and returns their sum.
func touchPages(_ data: Data) -> UInt64 {
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
        var sum: UInt64 = 0
        var offset = 0
        while offset < bytes.count {
            sum &+= UInt64(bytes[offset])
            offset += 4096
        }
        return sum
    }
}
#endif
