#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage
import _NIOFileSystem

// Ingest (FileHandle → store): a regular file outside the store copied in, with and without
// directStream. The source is opened before the clock starts and closed after it stops, for
// every contender.

extension BenchPlan {
    static func ingestSpec(size: Int, direct: Bool) -> WorkloadSpec {
        WorkloadSpec(
            id: "ingest-\(sizeID(size))-\(direct ? "direct" : "buffered")", group: .ingest,
            label: "ingest \(formatSize(size)) \(direct ? "direct" : "buffered")", objectSize: size
        ) { context in try context.makeIngest(size: size, direct: direct) }
    }
}

extension BenchPlan {
    static func moveSpec(size: Int) -> WorkloadSpec {
        WorkloadSpec(
            id: "ingest-\(sizeID(size))-move", group: .ingest, label: "ingest \(formatSize(size)) by move",
            objectSize: size
        ) { context in try context.makeMove(size: size) }
    }
}

/// The source descriptors a contender opens in `prepare` and closes in `reset`.
private final class OpenSource {
    var handle: Foundation.FileHandle?
    var fd: CInt = -1

    func close() {
        try? handle?.close()
        handle = nil
        if fd >= 0 { _ = CLocalStorage_close(fd) }
        fd = -1
    }
}

extension BenchContext {
    func makeIngest(size: Int, direct: Bool) throws -> Workload {
        let durability = Durability.noSync
        let storage = try storage(durability)
        let source = try sourceFile(size: size)
        let name = "ingest-output"
        let output = path(name)
        let context = self.context, directory = directoryFD
        let open = OpenSource()
        let nioSource = FilePath(source), nioOutput = FilePath(output)
        let removeOutput = {
            open.close()
            RawSyscalls.removeAll(directory: directory, names: [name])
        }

        var contenders = [
            Contender(
                kind: .engine, method: "LocalStorage.uploadFile(file: FileHandle, ..., directStream: \(direct))",
                prepare: {
                    guard let handle = Foundation.FileHandle(forReadingAtPath: source) else {
                        throw BenchError("cannot open \(source)")
                    }
                    open.handle = handle
                },
                run: {
                    guard let handle = open.handle else { throw BenchError("source not open") }
                    try storage.uploadFile(file: handle, fileName: name, context: context, directStream: direct)
                    return nil
                },
                reset: removeOutput),
            Contender(
                kind: .raw,
                method: direct
                    ? "openat(temp) copy_file_range loop close renameat"
                    : "openat(temp) read/write loop (1 MiB buffer) close renameat",
                prepare: {
                    open.fd = CLocalStorage_openat(AT_FDCWD, source, O_RDONLY | O_CLOEXEC, 0)
                    if open.fd < 0 { throw RawFailure(call: "openat", code: CLocalStorage_errno()) }
                },
                run: {
                    try RawSyscalls.ingest(
                        from: open.fd, directory: directory, temp: ".raw-tmp-" + name, name: name,
                        durability: durability, direct: direct)
                    return nil
                },
                reset: removeOutput),
            Contender(
                kind: .foundation, method: "FileManager.copyItem(atPath:toPath:)",
                run: {
                    try FoundationBaseline.ingest(from: source, to: output)
                    return nil
                },
                reset: removeOutput),
        ]
        // A copy is a copy: NIO's copyItem once, in the direct row, rather than twice.
        if direct {
            contenders += NIOBaseline.contenders(
                "FileSystem.copyItem(at:to:)", count: 1, fromSync: false, reset: removeOutput
            ) { _ in try await NIOBaseline.copy(from: nioSource, to: nioOutput) }
        }
        return Workload(
            id: "ingest-\(sizeID(size))-\(direct ? "direct" : "buffered")", group: .ingest,
            label: "ingest \(formatSize(size)) \(direct ? "direct" : "buffered")",
            objectSize: size, operations: 1, bytesPerRun: size, metric: .gigabytesPerSecond,
            durability: durability, contenders: contenders, tearDown: removeOutput)
    }

    /// Move-ingest: files on the store's file system handed over with
    /// `uploadFile(movingFileAt:...)`, against renameat on the shim and `FileManager.moveItem`.
    /// A rename costs the same whatever the size, and one takes microseconds, so a repetition
    /// moves `moveBatch` files: hard links to one source file, made (untimed) before each run —
    /// the same inode, data and mode for every contender, and no copying between runs.
    func makeMove(size: Int) throws -> Workload {
        let storage = try storage(.noSync)
        let template = try sourceFile(size: size)
        let count = settings.moveBatch
        let sources = (0..<count).map { sourcesPath + "/move-source-\($0)" }
        let names = (0..<count).map { "moved-\($0)" }
        let outputs = names.map(path)
        let context = self.context, directory = directoryFD
        let freshSources = {
            for source in sources {
                _ = unlink(source)
                if CLocalStorage_linkat(AT_FDCWD, template, AT_FDCWD, source, 0) != 0 {
                    throw RawFailure(call: "linkat", code: CLocalStorage_errno())
                }
            }
        }
        let removeOutputs = {
            RawSyscalls.removeAll(directory: directory, names: names)
            for source in sources { _ = unlink(source) }
        }
        return Workload(
            id: "ingest-\(sizeID(size))-move", group: .ingest, label: "ingest \(formatSize(size)) by move",
            objectSize: size, operations: count, bytesPerRun: 0, metric: .microsecondsPerOperation,
            durability: .noSync,
            contenders: [
                Contender(
                    kind: .engine, method: "LocalStorage.uploadFile(movingFileAt:fileName:context:)",
                    prepare: freshSources,
                    run: {
                        for index in sources.indices {
                            try storage.uploadFile(movingFileAt: sources[index], fileName: names[index], context: context)
                        }
                        return nil
                    },
                    reset: removeOutputs),
                Contender(
                    kind: .raw, method: "renameat", prepare: freshSources,
                    run: {
                        for index in sources.indices {
                            try RawSyscalls.move(from: sources[index], directory: directory, name: names[index])
                        }
                        return nil
                    },
                    reset: removeOutputs),
                Contender(
                    kind: .foundation, method: "FileManager.moveItem(atPath:toPath:)", prepare: freshSources,
                    run: {
                        for index in sources.indices { try FileManager.default.moveItem(atPath: sources[index], toPath: outputs[index]) }
                        return nil
                    },
                    reset: removeOutputs),
            ],
            notes: ["move: a rename within one file system (its cost does not depend on the size); the sources are hard links to one file"],
            tearDown: removeOutputs)
    }
}
#endif
