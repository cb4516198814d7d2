#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage

// Export: a stored file written out to a regular file outside the store, and to a pipe whose
// other end a drain thread empties into /dev/null (splice, so the consumer costs next to
// nothing and the producer sets the pace). The destination is opened before the clock starts;
// for the pipe, the clock stops when the drain thread has seen end of file, so every contender
// is timed until its last byte was delivered.

extension BenchPlan {
    static func exportFileSpec(size: Int) -> WorkloadSpec {
        WorkloadSpec(
            id: "export-\(sizeID(size))-file", group: .export, label: "export \(formatSize(size)) → file",
            objectSize: size
        ) { context in try context.makeExport(size: size, toPipe: false) }
    }

    static func exportPipeSpec(size: Int) -> WorkloadSpec {
        WorkloadSpec(
            id: "export-\(sizeID(size))-pipe", group: .export, label: "export \(formatSize(size)) → pipe",
            objectSize: size
        ) { context in try context.makeExport(size: size, toPipe: true) }
    }
}

/// The destination a contender writes to, opened in `prepare` and closed in `reset`.
private final class Destination {
    var handle: FileHandle?
    var fd: CInt = -1
    var drain: PipeDrain?

    /// Closes the write side, then waits for the drain thread (if any) to finish.
    func finish() throws {
        if let handle {
            try handle.close()
            self.handle = nil
            fd = -1
        } else if fd >= 0 {
            _ = CLocalStorage_close(fd)
            fd = -1
        }
        if let drain {
            self.drain = nil
            try drain.wait()
        }
    }
}

/// A pipe whose read end a dedicated thread drains into /dev/null until end of file.
final class PipeDrain: Sendable {
    /// The write end, for the contender.
    let writeFD: CInt
    private let readFD: CInt
    private let done = DispatchSemaphore(value: 0)
    private let failure = FirstFailure()

    init() throws {
        var fds: [CInt] = [-1, -1]
        let result = fds.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { CLocalStorage_pipe2($0, O_CLOEXEC) } ?? -1
        }
        if result != 0 { throw RawFailure(call: "pipe2", code: CLocalStorage_errno()) }
        readFD = fds[0]
        writeFD = fds[1]
        let readFD = self.readFD, done = self.done, failure = self.failure
        let thread = Thread {
            defer {
                _ = CLocalStorage_close(readFD)
                done.signal()
            }
            let null = CLocalStorage_openat(AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0)
            defer { if null >= 0 { _ = CLocalStorage_close(null) } }
            // splice into /dev/null; a read loop if the kernel refuses.
            while null >= 0 {
                let moved = CLocalStorage_splice(readFD, nil, null, nil, 1 << 20, 0)
                if moved > 0 { continue }
                if moved == 0 { return }
                if CLocalStorage_errno() == EINTR { continue }
                break
            }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            while true {
                let got = CLocalStorage_read(readFD, buffer, 1 << 20)
                if got > 0 { continue }
                if got == 0 { return }
                if CLocalStorage_errno() == EINTR { continue }
                failure.record(RawFailure(call: "read(pipe)", code: CLocalStorage_errno()))
                return
            }
        }
        thread.start()
    }

    /// Waits until the drain thread has seen end of file (the write end must be closed).
    func wait() throws {
        done.wait()
        if let error = failure.first { throw error }
    }
}

extension BenchContext {
    func makeExport(size: Int, toPipe: Bool) throws -> Workload {
        let storage = try storage(.noSync)
        let payload = payload(size: size)
        let name = "export-source"
        let storedPath = path(name)
        let output = sourcesPath + "/export-output"
        let context = self.context, directory = directoryFD
        let destination = Destination()

        /// Opens the destination: a fresh output file, or a new pipe with its drain thread.
        let open = { (asHandle: Bool) throws in
            if toPipe {
                let drain = try PipeDrain()
                destination.drain = drain
                destination.fd = drain.writeFD
            } else {
                destination.fd = CLocalStorage_openat(AT_FDCWD, output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                if destination.fd < 0 { throw RawFailure(call: "openat", code: CLocalStorage_errno()) }
            }
            if asHandle { destination.handle = FileHandle(fileDescriptor: destination.fd, closeOnDealloc: true) }
        }
        let closeAndRemove = {
            try? destination.finish()
            _ = unlink(output)
        }
        let label = "export \(formatSize(size)) → \(toPipe ? "pipe" : "file")"

        let engine = Contender(
            kind: .engine, method: "LocalStorage.downloadFile(_:context:to: FileHandle)",
            prepare: { try open(true) },
            run: {
                guard let handle = destination.handle else { throw BenchError("destination not open") }
                _ = try storage.downloadFile(name, context: context, to: handle)
                if toPipe { try destination.finish() }
                return nil
            },
            reset: closeAndRemove)
        let raw = Contender(
            kind: .raw,
            method: toPipe ? "openat, splice loop into the pipe, close" : "openat, copy_file_range loop, close",
            prepare: { try open(false) },
            run: {
                if toPipe {
                    try RawSyscalls.exportToPipe(directory: directory, name: name, pipe: destination.fd)
                    try destination.finish()
                } else {
                    try RawSyscalls.exportToFile(directory: directory, name: name, destination: destination.fd)
                }
                return nil
            },
            reset: closeAndRemove)
        let foundation: Contender
        if toPipe {
            foundation = Contender(
                kind: .foundation, method: "FileHandle.write(contentsOf: Data(contentsOf:))",
                prepare: { try open(true) },
                run: {
                    guard let handle = destination.handle else { throw BenchError("destination not open") }
                    try handle.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: storedPath)))
                    try destination.finish()
                    return nil
                },
                reset: closeAndRemove)
        } else {
            foundation = Contender(
                kind: .foundation, method: "FileManager.copyItem(atPath:toPath:)",
                run: {
                    try FileManager.default.copyItem(atPath: storedPath, toPath: output)
                    return nil
                },
                reset: closeAndRemove)
        }

        return Workload(
            id: "export-\(sizeID(size))-\(toPipe ? "pipe" : "file")", group: .export, label: label,
            objectSize: size, operations: 1, bytesPerRun: size, metric: .gigabytesPerSecond,
            contenders: [engine, raw, foundation],
            setUp: {
                try payload.withUnsafeBytes { bytes in
                    try RawSyscalls.put(bytes, directory: directory, temp: ".raw-tmp-" + name, name: name, durability: .fileSync)
                }
            },
            tearDown: {
                closeAndRemove()
                RawSyscalls.removeAll(directory: directory, names: [name])
            })
    }
}
#endif
