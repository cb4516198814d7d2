import Foundation
import Glibc
import Synchronization
import Testing

@testable import LocalStorage

/// True where /dev/shm is a separate file system from the scratch directories, so
/// copy_file_range answers EXDEV.
let sharedMemoryIsAnotherFileSystem: Bool = {
    var shm = stat(), scratch = stat()
    return stat("/dev/shm", &shm) == 0 && stat(scratchParent, &scratch) == 0 && shm.st_dev != scratch.st_dev
}()

/// What a direct ingest of a regular file on the scratch file system takes when nothing is refused.
let directIngestPath: TransferPath = scratchSharesExtents ? .reflink : .copyFileRange

/// Writes `data` into a pipe from another thread and closes it; returns the read end.
func pipeFeeding(_ data: Data) -> FileHandle {
    let pipe = Pipe()
    let writer = pipe.fileHandleForWriting
    Thread {
        try? writer.write(contentsOf: data)
        try? writer.close()
    }.start()
    return pipe.fileHandleForReading
}

/// Reads a pipe or socket to its end on another thread; `wait()` returns what it read.
final class Drain: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var collected = Data()

    init(_ handle: FileHandle) {
        Thread { [self] in
            collected = (try? handle.readToEnd()) ?? Data()
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return collected
    }
}

func socketPair() -> (FileHandle, FileHandle)? {
    var fds: [CInt] = [-1, -1]
    guard socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { return nil }
    return (FileHandle(fileDescriptor: fds[0], closeOnDealloc: true), FileHandle(fileDescriptor: fds[1], closeOnDealloc: true))
}

@Suite struct StreamingTests {
    static let payload = Data(patternBytes(count: (5 << 20) + 12_345, seed: 99))

    #if ENABLE_MOCKING
    /// Each copy path from a regular file, forced in turn by making the faster ones ENOSYS
    /// (the reflink too, which XFS would take first; XFSReflinkTests covers it).
    @Test(arguments: [
        ([Syscall.ficlone], TransferPath.copyFileRange),
        ([.ficlone, .copyFileRange], .sendfile),
        ([.ficlone, .copyFileRange, .sendfile], .buffered),
    ])
    func ingestFromAFileTakesEachPath(_ refused: [Syscall], _ expected: TransferPath) throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        write(Self.payload, to: scratch.at("src"))
        let injector = FaultInjector(refused.map { .init(syscall: $0, call: 1, repeats: true, fault: .fail(ENOSYS)) })
        for round in 0..<2 {
            let handle = try #require(FileHandle(forReadingAtPath: scratch.at("src")))
            let outcome = try injector.run {
                try storage.uploadStream(fromDescriptor: handle.fileDescriptor, fileName: "f", context: "c", direct: true)
            }
            try handle.close()
            #expect(outcome.path == expected)
            #expect(outcome.bytes == Self.payload.count)
            #expect(try storage.downloadFile("f", context: "c") == Self.payload)
            // ENOSYS is remembered: the refused calls are made once, on the first round only.
            if round == 1 {
                for syscall in refused { #expect(injector.calls(to: syscall) == 1) }
            }
        }
        if expected == .copyFileRange {
            #expect(injector.bytesMoved(by: .read) == 0 && injector.bytesMoved(by: .write) == 0)
        }
    }

    @Test func directStreamFalseUsesTheBufferedLoop() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        write(Self.payload, to: scratch.at("src"))
        let handle = try #require(FileHandle(forReadingAtPath: scratch.at("src")))
        defer { try? handle.close() }
        let injector = FaultInjector()
        let outcome = try injector.run {
            try storage.uploadStream(fromDescriptor: handle.fileDescriptor, fileName: "f", context: "", direct: false)
        }
        #expect(outcome.path == .buffered)
        #expect(injector.calls(to: .copyFileRange) == 0)
        #expect(injector.bytesMoved(by: .write) == Self.payload.count)
        #expect(try storage.downloadFile("f", context: "") == Self.payload)
    }

    @Test(.enabled(if: sharedMemoryIsAnotherFileSystem, "/dev/shm is not a separate file system here"))
    func crossFileSystemIngestFallsBackToSendfileForThatPairOnly() throws {
        let scratch = Scratch()
        let shm = Scratch(in: "/dev/shm")
        let storage = try scratch.storage()
        write(Self.payload, to: shm.at("src"))
        write(Self.payload, to: scratch.at("src"))
        let injector = FaultInjector()
        try injector.run {
            for _ in 0..<2 {
                let remote = try #require(FileHandle(forReadingAtPath: shm.at("src")))
                let outcome = try storage.uploadStream(fromDescriptor: remote.fileDescriptor, fileName: "shm", context: "", direct: true)
                #expect(outcome.path == .sendfile)
                try remote.close()
            }
            let local = try #require(FileHandle(forReadingAtPath: scratch.at("src")))
            let outcome = try storage.uploadStream(fromDescriptor: local.fileDescriptor, fileName: "local", context: "", direct: true)
            #expect(outcome.path == directIngestPath)
            try local.close()
        }
        // EXDEV for the (shm, root) pair is remembered; the same-device pair is unaffected (one
        // call that copies, one that says end of input; none where a reflink did it).
        #expect(injector.calls(to: .copyFileRange) == 1 + (directIngestPath == .copyFileRange ? 2 : 0))
        #expect(try storage.downloadFile("shm", context: "") == Self.payload)
        #expect(try storage.downloadFile("local", context: "") == Self.payload)
    }

    @Test(arguments: [false, true])
    func ingestFromAPipe(refuseSplice: Bool) throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let rules: [FaultInjector.Rule] = refuseSplice ? [.init(syscall: .splice, call: 1, repeats: true, fault: .fail(EINVAL))] : []
        let injector = FaultInjector(rules)
        let source = pipeFeeding(Self.payload)
        let outcome = try injector.run {
            try storage.uploadStream(fromDescriptor: source.fileDescriptor, fileName: "p", context: "", direct: true)
        }
        #expect(outcome.path == (refuseSplice ? .buffered : .splice))
        #expect(outcome.bytes == Self.payload.count)
        #expect(try storage.downloadFile("p", context: "") == Self.payload)
    }

    @Test func ingestFromASocketSplicesThroughAPipe() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let (left, right) = try #require(socketPair())
        Thread {
            try? left.write(contentsOf: Self.payload)
            shutdown(left.fileDescriptor, CInt(SHUT_WR))
        }.start()
        let injector = FaultInjector()
        let outcome = try injector.run {
            try storage.uploadStream(fromDescriptor: right.fileDescriptor, fileName: "s", context: "", direct: true)
        }
        #expect(outcome.path == .splice)
        #expect(injector.bytesMoved(by: .read) == 0 && injector.bytesMoved(by: .write) == 0)
        #expect(try storage.downloadFile("s", context: "") == Self.payload)
    }

    /// Export to a regular file, after what the destination already holds, by every path.
    @Test(arguments: [
        ([], TransferPath.copyFileRange),
        ([Syscall.copyFileRange], .sendfile),
        ([.copyFileRange, .sendfile], .buffered),
    ])
    func exportToAFile(_ refused: [Syscall], _ expected: TransferPath) throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Self.payload, fileName: "f", context: "c")
        write("HEADER", to: scratch.at("out"))
        let out = try #require(FileHandle(forUpdatingAtPath: scratch.at("out")))
        try out.seekToEnd()
        let injector = FaultInjector(refused.map { .init(syscall: $0, call: 1, repeats: true, fault: .fail(EOPNOTSUPP)) })
        let outcome = try injector.run { try storage.exportStream("f", context: "c", toDescriptor: out.fileDescriptor) }
        try out.close()
        #expect(outcome.path == expected)
        #expect(outcome.bytes == Self.payload.count)
        #expect(contents(of: scratch.at("out")) == Data("HEADER".utf8) + Self.payload)
    }

    @Test(.enabled(if: sharedMemoryIsAnotherFileSystem, "/dev/shm is not a separate file system here"))
    func exportAcrossFileSystems() throws {
        let scratch = Scratch()
        let shm = Scratch(in: "/dev/shm")
        let storage = try scratch.storage()
        try storage.uploadFile(file: Self.payload, fileName: "f", context: "")
        write(Data(), to: shm.at("out"))
        let out = try #require(FileHandle(forWritingAtPath: shm.at("out")))
        let outcome = try storage.exportStream("f", context: "", toDescriptor: out.fileDescriptor)
        try out.close()
        #expect(outcome.path == .sendfile)
        #expect(contents(of: shm.at("out")) == Self.payload)
    }

    @Test(arguments: [false, true])
    func exportToAPipe(refuseSplice: Bool) throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Self.payload, fileName: "f", context: "")
        let pipe = Pipe()
        let drain = Drain(pipe.fileHandleForReading)
        let rules: [FaultInjector.Rule] = refuseSplice ? [.init(syscall: .splice, call: 1, repeats: true, fault: .fail(EINVAL))] : []
        let outcome = try FaultInjector(rules).run {
            try storage.exportStream("f", context: "", toDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        }
        try pipe.fileHandleForWriting.close()
        #expect(outcome.path == (refuseSplice ? .sendfile : .splice))
        #expect(drain.wait() == Self.payload)
    }

    @Test func exportToASocketUsesSendfile() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Self.payload, fileName: "f", context: "")
        let (left, right) = try #require(socketPair())
        let drain = Drain(right)
        let outcome = try storage.exportStream("f", context: "", toDescriptor: left.fileDescriptor)
        shutdown(left.fileDescriptor, CInt(SHUT_WR))
        #expect(outcome.path == .sendfile)
        #expect(drain.wait() == Self.payload)
    }
    #endif

    @Test func exportErrors() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Self.payload, fileName: "f", context: "")
        let out = try #require(FileHandle(forWritingAtPath: "/dev/null"))
        expectError(.notFound) { try storage.downloadFile("missing", context: "", to: out) }
        #expect(try storage.downloadFile("f", context: "", to: out) == Self.payload.count)
        write("", to: scratch.at("readonly"))
        let readOnly = try #require(FileHandle(forReadingAtPath: scratch.at("readonly")))
        expectError(.destinationUnwritable) { try storage.downloadFile("f", context: "", to: readOnly) }
    }

    @Test func mappedDownload() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Self.payload, fileName: "f", context: "m")
        try storage.uploadFile(file: Data(), fileName: "empty", context: "m")
        var mapped: Data? = try storage.downloadFile("f", context: "m", mapped: true)
        // Replacing the file does not disturb the mapping of the old version.
        try storage.uploadFile(file: "new", fileName: "f", context: "m")
        #expect(mapped == Self.payload)
        mapped = nil
        #expect(try storage.downloadFile("f", context: "m", mapped: true) == Data("new".utf8))
        #expect(try storage.downloadFile("f", context: "m", mapped: false) == Data("new".utf8))
        #expect(try storage.downloadFile("empty", context: "m", mapped: true) == Data())
        expectError(.notFound) { try storage.downloadFile("missing", context: "m", mapped: true) }
    }

    @Test func chunkedReader() async throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try await storage.uploadFile(file: Self.payload, fileName: "f", context: "r")
        let reader = try await storage.openReader("f", context: "r", chunkSize: 1 << 20)
        #expect(reader.size == Self.payload.count)
        var collected = Data()
        var sizes: [Int] = []
        for try await chunk in reader {
            collected.append(chunk)
            sizes.append(chunk.count)
        }
        #expect(collected == Self.payload)
        #expect(sizes.dropLast().allSatisfy { $0 == 1 << 20 })
        #expect(sizes.count == 6)
        var synchronous = Data()
        try reader.forEachChunk { synchronous.append($0) }
        #expect(synchronous == Self.payload)
        #expect(try reader.read(upToCount: 10, at: 5) == Self.payload[5..<15])

        try await storage.uploadFile(file: Data(), fileName: "empty", context: "r")
        var iterator = try await storage.openReader("empty", context: "r").makeChunkIterator()
        #expect(try await iterator.next() == nil)
        expectError(.notFound) { try storage.openReader("missing", context: "r") }
    }

    @Test func fileWriterCommitsOnReturn() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        let pieces: [Data] = [Data("small ".utf8), Self.payload, Data(repeating: 3, count: 100), Data()]
        var escaped: FileWriter?
        let total = try storage.withFileWriter(fileName: "w", context: "c") { writer in
            for piece in pieces { try writer.write(piece) }
            try writer.write("tail")
            try writer.write([1, 2, 3])
            escaped = writer
            return writer.bytesWritten
        }
        let expected = pieces.reduce(Data(), +) + Data("tail".utf8) + Data([1, 2, 3])
        #expect(total == expected.count)
        #expect(try storage.downloadFile("w", context: "c") == expected)
        expectError(.closed) { try escaped?.write("late") }
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
    }

    @Test func fileWriterDiscardsOnThrow() throws {
        struct ProducerFailed: Error {}
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "old", fileName: "w", context: "c")
        #expect(throws: ProducerFailed.self) {
            try storage.withFileWriter(fileName: "w", context: "c") { writer in
                try writer.write(Self.payload)
                throw ProducerFailed()
            }
        }
        #expect(try storage.downloadFile("w", context: "c") == Data("old".utf8))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
        #expect(try storage.listStoredFiles("c") == ["w"])
    }

    @Test func moveIngestRenamesOnTheSameFileSystem() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .fullSync, fileMode: 0o640)
        write(Self.payload, to: scratch.at("incoming"))
        var before = stat()
        #expect(stat(scratch.at("incoming"), &before) == 0)
        #expect(try storage.uploadFile(movingFileAt: scratch.at("incoming"), fileName: "moved", context: "in") == "moved")
        var after = stat()
        #expect(stat(scratch.at("root/in/moved"), &after) == 0)
        #expect(after.st_ino == before.st_ino)
        #expect(after.st_mode & 0o7777 == 0o640)
        #expect(!FileManager.default.fileExists(atPath: scratch.at("incoming")))
        #expect(try storage.downloadFile("moved", context: "in") == Self.payload)
    }

    @Test(.enabled(if: sharedMemoryIsAnotherFileSystem, "/dev/shm is not a separate file system here"))
    func moveIngestAcrossFileSystemsCopiesThenUnlinks() throws {
        let scratch = Scratch()
        let shm = Scratch(in: "/dev/shm")
        let storage = try scratch.storage(.fullSync)
        try storage.uploadFile(file: "old", fileName: "moved", context: "")
        write(Self.payload, to: shm.at("incoming"))
        try storage.uploadFile(movingFileAt: shm.at("incoming"), fileName: "moved", context: "")
        #expect(!FileManager.default.fileExists(atPath: shm.at("incoming")))
        #expect(try storage.downloadFile("moved", context: "") == Self.payload)
        #expect(tempFiles(in: scratch.at("root")).isEmpty)
    }

    @Test func moveIngestRefusesWhatItCannotMove() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        write("sentinel", to: scratch.at("target"))
        #expect(symlink(scratch.at("target"), scratch.at("link")) == 0)
        expectError(.unsafePath) { try storage.uploadFile(movingFileAt: scratch.at("link"), fileName: "x", context: "") }
        expectError(.notFound) { try storage.uploadFile(movingFileAt: scratch.at("missing"), fileName: "x", context: "") }
        expectError(.notARegularFile) { try storage.uploadFile(movingFileAt: scratch.path, fileName: "x", context: "") }
        expectError(.invalidName) { try storage.uploadFile(movingFileAt: scratch.at("target"), fileName: "..", context: "") }
        #expect(contents(of: scratch.at("target")) == Data("sentinel".utf8))
        #expect(FileManager.default.fileExists(atPath: scratch.at("link")))
        #expect(try storage.listStoredFiles("") == [])
    }
}
