#if Benchmark
import Foundation
import LocalStorage
import _NIOFileSystem

// The async API (issue 12) against the same calls made synchronously and against NIOFileSystem:
// get and put at 4 KiB and at the large size, and the cost of the hop to the I/O pool itself
// (exists and a 4 KiB get awaited through the pool against the same synchronous call made
// inline from the async task).
//
// Every async contender runs its whole batch inside one task that awaits each call in turn (how
// async code uses the API: one bridge from the runner's thread per batch, negligible next to
// the batch). The synchronous contender calls from the runner's own thread, as before.

/// The rows of the async family.
enum AsyncRow: CaseIterable {
    case getSmall, getLarge, putSmall, putLarge, exists

    /// 4 KiB, or the large size of this run (the smallest of at least 64 MiB: 64 MiB by
    /// default, 16 MiB with --quick).
    func size(_ settings: BenchSettings) -> Int {
        switch self {
        case .getSmall, .putSmall: 4 << 10
        case .getLarge, .putLarge: BenchPlan.ingestSizes(settings.sizes).min() ?? 64 << 20
        case .exists: 0
        }
    }

    func id(_ settings: BenchSettings) -> String {
        switch self {
        case .getSmall, .getLarge: "async-get-\(sizeID(size(settings)))"
        case .putSmall, .putLarge: "async-put-\(sizeID(size(settings)))-noSync"
        case .exists: "async-exists"
        }
    }

    func label(_ settings: BenchSettings) -> String {
        switch self {
        case .getSmall, .getLarge: "async get \(formatSize(size(settings)))"
        case .putSmall, .putLarge: "async put \(formatSize(size(settings))) .noSync"
        case .exists: "async exists (hit)"
        }
    }
}

extension BenchPlan {
    static func asyncSpec(_ row: AsyncRow, settings: BenchSettings) -> WorkloadSpec {
        WorkloadSpec(
            id: row.id(settings), group: .async, label: row.label(settings), objectSize: row.size(settings)
        ) { context in
            switch row {
            case .getSmall, .getLarge: try context.makeAsyncGet(row)
            case .putSmall, .putLarge: try context.makeAsyncPut(row)
            case .exists: try context.makeAsyncExists()
            }
        }
    }
}

/// The ratios the async rows show: async against sync and against NIO; in the hop rows, async
/// against the same call inline in the task.
private let asyncVersusSync = RatioPair(numerator: .engineAsync, denominator: .engine)
private let asyncVersusNIO = RatioPair(numerator: .engineAsync, denominator: .nio)
private let asyncVersusInline = RatioPair(numerator: .engineAsync, denominator: .engineInline)

/// What the hop rows' cells mean, in the notes under the table.
private let hopNote =
    "async get 4 KiB and async exists: \"LS async − LS inline\" is the hop to the I/O pool per call: LS "
    + "async's time minus that of the same synchronous call made inside the awaiting task (on the "
    + "cooperative pool), taken in each round, in µs per operation, median [95% interval]; \"LS async "
    + "vs LS inline\" is the same cost as a ratio."

// The synchronous calls, from synchronous functions: inside an async closure the same spelling
// would pick the async overload.

private func syncGet(_ storage: LocalStorage, _ name: String, _ context: String, times: Int) throws -> Data {
    var last = Data()
    for _ in 0..<times { last = try storage.downloadFile(name, context: context) }
    return last
}

private func syncExists(_ storage: LocalStorage, _ name: String, _ context: String, times: Int) throws -> Int {
    var found = 0
    for _ in 0..<times {
        if try storage.checkIfExists(name, context: context) { found += 1 }
    }
    return found
}

private func syncPut(_ storage: LocalStorage, _ payload: Data, _ names: [String], _ context: String) throws {
    for name in names { try storage.uploadFile(file: payload, fileName: name, context: context) }
}

extension BenchContext {
    /// Writes the one file the read rows share (durably, once; the warm-up brings it into the
    /// page cache).
    private func writeAsyncSource(_ name: String, _ payload: Data) throws {
        let directory = directoryFD
        try payload.withUnsafeBytes { bytes in
            try RawSyscalls.put(bytes, directory: directory, temp: ".raw-tmp-" + name, name: name, durability: .fileSync)
        }
    }

    /// A get of one stored file, `operations` times per run, async, sync and through NIO; at
    /// 4 KiB also inline in the task (the hop's cost).
    func makeAsyncGet(_ row: AsyncRow) throws -> Workload {
        let size = row.size(settings)
        let operations = settings.getOperations(objectSize: size)
        let storage = try storage(.noSync)
        let payload = payload(size: size)
        let name = "async-get-source"
        let nioPath = FilePath(path(name))
        let context = self.context, directory = directoryFD
        let small = size < 1 << 20

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.downloadFile(_:context:) -> Data, from the benchmark's own thread",
                run: { try syncGet(storage, name, context, times: operations) }),
            Contender(
                kind: .engineAsync, method: "await LocalStorage.downloadFile(_:context:) -> Data (on the I/O pool)",
                run: {
                    try waitForTask { () async throws -> Data in
                        var last = Data()
                        for _ in 0..<operations { last = try await storage.downloadFile(name, context: context) }
                        return last
                    }
                }),
        ]
        if small {
            contenders.append(
                Contender(
                    kind: .engineInline, method: "LocalStorage.downloadFile(_:context:) (sync) called inside the task",
                    run: { try waitForTask { () async throws -> Data in try syncGet(storage, name, context, times: operations) } }))
        }
        contenders += NIOBaseline.contenders("ByteBuffer(contentsOf:maximumSizeAllowed:)", count: operations, fromSync: false) {
            _ in _ = try await NIOBaseline.get(path: nioPath)
        }
        return Workload(
            id: row.id(settings), group: .async, label: row.label(settings), objectSize: size, operations: operations,
            bytesPerRun: size * operations, metric: sizeMetric(size), writes: false, contenders: contenders,
            shown: small ? [asyncVersusSync, asyncVersusNIO, asyncVersusInline] : [asyncVersusSync, asyncVersusNIO],
            differences: small ? [asyncVersusInline] : [], notes: small ? [hopNote] : [],
            setUp: { try self.writeAsyncSource(name, payload) },
            tearDown: { RawSyscalls.removeAll(directory: directory, names: [name]) })
    }

    /// A put at `.noSync` (NIO's write never fsyncs), async, sync and through NIO.
    func makeAsyncPut(_ row: AsyncRow) throws -> Workload {
        let size = row.size(settings)
        let operations = settings.putOperations(objectSize: size, durability: .noSync)
        let storage = try storage(.noSync)
        let payload = payload(size: size)
        let names = (0..<operations).map { "async-put-\($0)" }
        let nioPaths = names.map { FilePath(path($0)) }
        let context = self.context, directory = directoryFD
        let removeOutputs = { RawSyscalls.removeAll(directory: directory, names: names) }

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage(durability: .noSync).uploadFile(file: Data, ...), from the benchmark's own thread",
                run: {
                    try syncPut(storage, payload, names, context)
                    return nil
                }, reset: removeOutputs),
            Contender(
                kind: .engineAsync, method: "await LocalStorage(durability: .noSync).uploadFile(file: Data, ...) (on the I/O pool)",
                run: {
                    try waitForTask {
                        for name in names { try await storage.uploadFile(file: payload, fileName: name, context: context) }
                    }
                    return nil
                }, reset: removeOutputs),
        ]
        contenders += NIOBaseline.contenders(
            "Data.write(toFileAt:options: .newFile(replaceExisting: true))", count: operations, fromSync: false,
            reset: removeOutputs
        ) { index in try await NIOBaseline.put(payload, path: nioPaths[index]) }
        return Workload(
            id: row.id(settings), group: .async, label: row.label(settings), objectSize: size, operations: operations,
            bytesPerRun: size * operations, metric: sizeMetric(size), durability: .noSync, contenders: contenders,
            shown: [asyncVersusSync, asyncVersusNIO], tearDown: removeOutputs)
    }

    /// `checkIfExists` of one stored 4 KiB file, async, sync, inline in the task and through NIO
    /// (`info(forFileAt:)`): the smallest call, where the hop weighs most.
    func makeAsyncExists() throws -> Workload {
        let operations = settings.getBatchLimit
        let storage = try storage(.noSync)
        let payload = payload(size: 4 << 10)
        let name = "async-exists-source"
        let nioPath = FilePath(path(name))
        let context = self.context, directory = directoryFD
        let contenders =
            [
                Contender(
                    kind: .engine, method: "LocalStorage.checkIfExists(_:context:), from the benchmark's own thread",
                    run: { try syncExists(storage, name, context, times: operations) }),
                Contender(
                    kind: .engineAsync, method: "await LocalStorage.checkIfExists(_:context:) (on the I/O pool)",
                    run: {
                        try waitForTask { () async throws -> Int in
                            var found = 0
                            for _ in 0..<operations {
                                if try await storage.checkIfExists(name, context: context) { found += 1 }
                            }
                            return found
                        }
                    }),
                Contender(
                    kind: .engineInline, method: "LocalStorage.checkIfExists(_:context:) (sync) called inside the task",
                    run: { try waitForTask { () async throws -> Int in try syncExists(storage, name, context, times: operations) } }),
            ]
            + NIOBaseline.contenders("info(forFileAt:infoAboutSymbolicLink: true) is a regular file", count: operations, fromSync: false) {
                _ in _ = try await NIOBaseline.exists(path: nioPath)
            }
        return Workload(
            id: AsyncRow.exists.id(settings), group: .async, label: AsyncRow.exists.label(settings), objectSize: 0,
            operations: operations, bytesPerRun: 0, metric: .microsecondsPerOperation, writes: false,
            contenders: contenders, shown: [asyncVersusSync, asyncVersusNIO, asyncVersusInline],
            differences: [asyncVersusInline], notes: [hopNote],
            setUp: { try self.writeAsyncSource(name, payload) },
            tearDown: { RawSyscalls.removeAll(directory: directory, names: [name]) })
    }
}
#endif
