import Foundation
import LocalStorage
import Testing

#if S3
@testable import S3Storage
#endif

/// The behaviour every `BaseStorage` backend shares, checked on each: LocalStorage always,
/// S3Storage against a live S3 server (with the S3 trait and an endpoint).
enum ConformanceCheck: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case seedExamples, customNaming, roundTripSizes, overwrite, streamUploads, downloadToHandle, openedHandle
    case listingSkipsSubcontexts, listingPastOnePage, awkwardNames, deletes, notFound, invalidNames, fileInfo
    case concurrentSyncCallers, nonBlockingPipes, asyncCounterparts

    var testDescription: String { rawValue }
}

/// Makes fresh, empty storages of one backend.
protocol StorageMaker: Sendable {
    /// An empty storage; with `customPrefix`, one whose `fileName(for:)` adds `custom_prefix_`.
    func make(customPrefix: Bool) throws -> any BaseStorage
    /// Multipart sizes for this backend (above its threshold).
    var largeSize: Int { get }
}

struct LocalMaker: StorageMaker {
    /// Every storage of one check lives under this directory, removed after the check.
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)").path

    final class Custom: LocalStorage, @unchecked Sendable {
        override func fileName(for name: String) -> String { "custom_prefix_\(name)" }
    }

    func make(customPrefix: Bool) throws -> any BaseStorage {
        let root = "\(base)/\(UUID().uuidString)"
        return customPrefix ? try Custom(storagePath: root, durability: .noSync) : try LocalStorage(storagePath: root, durability: .noSync)
    }

    var largeSize: Int { 12 << 20 + 123 }
}

@Suite("Conformance: LocalStorage")
struct LocalConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func check(_ check: ConformanceCheck) async throws {
        let maker = LocalMaker()
        defer { try? FileManager.default.removeItem(atPath: maker.base) }
        try await Conformance(maker: maker).run(check)
    }
}

#if S3
struct S3Maker: StorageMaker {
    final class Custom: S3Storage, @unchecked Sendable {
        override func fileName(for name: String) -> String { "custom_prefix_\(name)" }
    }

    func make(customPrefix: Bool) throws -> any BaseStorage {
        guard customPrefix else { return try S3TestEnvironment.storage() }
        let server = try S3TestEnvironment.requireServer()
        return try Custom(
            endpoint: server.endpoint, bucket: S3TestEnvironment.bucket, prefix: "t-\(UUID().uuidString.prefix(8))",
            accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey, transfer: S3TestEnvironment.smallParts)
    }

    // Three 5 MiB parts and a bit: above the threshold of `smallParts`.
    var largeSize: Int { 12 << 20 + 123 }
}

@Suite("Conformance: S3Storage", .enabled(if: S3TestEnvironment.available, "\(S3TestEnvironment.unavailableReason)"))
struct S3ConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func check(_ check: ConformanceCheck) async throws {
        try await Conformance(maker: S3Maker()).run(check)
    }
}
#endif

/// Bytes that differ at every offset, so a misplaced range shows.
func patterned(_ count: Int, seed: UInt8 = 7) -> Data {
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8 &+ Int(seed)) }
    return Data(bytes)
}

/// A temporary regular file with `content`, open for reading and writing at offset 0.
func temporaryFile(_ content: Data) throws -> (FileHandle, String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-file-\(UUID().uuidString)").path
    guard FileManager.default.createFile(atPath: path, contents: content) else { throw CocoaError(.fileWriteUnknown) }
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    return (handle, path)
}

/// Sets O_NONBLOCK on a handle's descriptor.
func setNonBlocking(_ handle: FileHandle) throws {
    let fd = handle.fileDescriptor
    let flags = fcntl(fd, F_GETFL)
    guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw CocoaError(.fileWriteUnknown) }
}

func expectCode(_ code: LocalStorageError.Code, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected LocalStorageError.\(code), got success", sourceLocation: sourceLocation)
    } catch let error as LocalStorageError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected LocalStorageError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
}

struct Conformance {
    let maker: any StorageMaker

    func run(_ check: ConformanceCheck) async throws {
        switch check {
        case .seedExamples: try seedExamples()
        case .customNaming: try customNaming()
        case .roundTripSizes: try roundTripSizes()
        case .overwrite: try overwrite()
        case .streamUploads: try streamUploads()
        case .downloadToHandle: try downloadToHandle()
        case .openedHandle: try openedHandle()
        case .listingSkipsSubcontexts: try listingSkipsSubcontexts()
        case .listingPastOnePage: try listingPastOnePage()
        case .awkwardNames: try awkwardNames()
        case .deletes: try deletes()
        case .notFound: try notFound()
        case .invalidNames: try invalidNames()
        case .fileInfo: try fileInfo()
        case .concurrentSyncCallers: try await concurrentSyncCallers()
        case .nonBlockingPipes: try nonBlockingPipes()
        case .asyncCounterparts: try await asyncCounterparts()
        }
    }

    /// The seed document's examples, step by step.
    func seedExamples() throws {
        let storage = try maker.make(customPrefix: false)
        let stored = try storage.uploadFile(file: "Hello, World!", fileName: "greeting.txt", context: "messages", directStream: false)
        #expect(stored == "greeting.txt")
        #expect(String(decoding: try storage.downloadFile("greeting.txt", context: "messages"), as: UTF8.self) == "Hello, World!")
        #expect(try storage.checkIfExists("greeting.txt", context: "messages"))
        #expect(try storage.listStoredFiles("messages") == ["greeting.txt"])
        try storage.deleteFile("greeting.txt", context: "messages")
        #expect(try !storage.checkIfExists("greeting.txt", context: "messages"))
        #expect(try storage.listStoredFiles("messages") == [])
        // Direct streaming of a large file.
        let content = patterned(maker.largeSize)
        let (handle, path) = try temporaryFile(content)
        defer { try? handle.close(); unlink(path) }
        try storage.uploadFile(file: handle, fileName: "large_file.dat", context: "data", directStream: true)
        #expect(try storage.downloadFile("large_file.dat", context: "data") == content)
        #expect(!storage.getRootPath().hasSuffix("/"))
    }

    func customNaming() throws {
        let storage = try maker.make(customPrefix: true)
        #expect(try storage.uploadFile(file: "x", fileName: "a.txt", context: "c", directStream: false) == "custom_prefix_a.txt")
        #expect(try storage.listStoredFiles("c") == ["custom_prefix_a.txt"])
        #expect(try storage.checkIfExists("a.txt", context: "c"))
        #expect(try storage.downloadFile("a.txt", context: "c") == Data("x".utf8))
        try storage.deleteFile("a.txt", context: "c")
        #expect(try storage.listStoredFiles("c") == [])
    }

    /// 0 bytes to multipart sizes, from memory and back whole.
    func roundTripSizes() throws {
        let storage = try maker.make(customPrefix: false)
        for size in [0, 1, 4096, 1 << 20, maker.largeSize] {
            let content = patterned(size, seed: UInt8(truncatingIfNeeded: size))
            try storage.uploadFile(file: content, fileName: "f\(size)", context: "sizes", directStream: false)
            let back = try storage.downloadFile("f\(size)", context: "sizes")
            #expect(back.count == size)
            #expect(back == content, "size \(size)")
        }
    }

    func overwrite() throws {
        let storage = try maker.make(customPrefix: false)
        try storage.uploadFile(file: patterned(maker.largeSize), fileName: "f", context: "", directStream: false)
        try storage.uploadFile(file: "short", fileName: "f", context: "", directStream: false)
        #expect(try storage.downloadFile("f", context: "") == Data("short".utf8))
        #expect(try storage.listStoredFiles("") == ["f"])
    }

    /// From a handle at a non-zero offset, direct and buffered, small and multipart; and from a
    /// pipe. The handle's offset ends at its end.
    func streamUploads() throws {
        let storage = try maker.make(customPrefix: false)
        for size in [0, 100_000, maker.largeSize] {
            let content = patterned(size + 10, seed: 3)
            for direct in [true, false] {
                let (handle, path) = try temporaryFile(content)
                defer { try? handle.close(); unlink(path) }
                try handle.seek(toOffset: 10)
                try storage.uploadFile(file: handle, fileName: "s\(size)-\(direct)", context: "streams", directStream: direct)
                #expect(try handle.offset() == UInt64(size + 10))
                #expect(
                    try storage.downloadFile("s\(size)-\(direct)", context: "streams") == content.dropFirst(10),
                    "size \(size) direct \(direct)")
            }
        }
        // A pipe, fed by another thread: read in order to its end.
        let content = patterned(maker.largeSize, seed: 9)
        let pipe = Pipe()
        let writer = Thread {
            try? pipe.fileHandleForWriting.write(contentsOf: content)
            try? pipe.fileHandleForWriting.close()
        }
        writer.start()
        try storage.uploadFile(file: pipe.fileHandleForReading, fileName: "piped", context: "streams", directStream: true)
        #expect(try storage.downloadFile("piped", context: "streams") == content)
    }

    /// To a regular file at its offset (ranged for multipart sizes), and to a pipe.
    func downloadToHandle() throws {
        let storage = try maker.make(customPrefix: false)
        for size in [0, 5000, maker.largeSize] {
            let content = patterned(size, seed: 5)
            try storage.uploadFile(file: content, fileName: "d\(size)", context: "dl", directStream: false)
            let (handle, path) = try temporaryFile(Data("head".utf8))
            defer { try? handle.close(); unlink(path) }
            try handle.seekToEnd()
            #expect(try storage.downloadFile("d\(size)", context: "dl", to: handle) == size)
            #expect(try handle.offset() == UInt64(4 + size))
            #expect(FileManager.default.contents(atPath: path) == Data("head".utf8) + content, "size \(size)")
        }
        let content = patterned(maker.largeSize, seed: 6)
        try storage.uploadFile(file: content, fileName: "to-pipe", context: "dl", directStream: false)
        let pipe = Pipe()
        let received = DataBox()
        let reader = Thread { received.data = pipe.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        #expect(try storage.downloadFile("to-pipe", context: "dl", to: pipe.fileHandleForWriting) == content.count)
        try pipe.fileHandleForWriting.close()
        while !reader.isFinished { usleep(1000) }
        #expect(received.data == content)
    }

    /// A caller's non-blocking pipe that has nothing to read yet, or no room to write, is waited
    /// on (EAGAIN), not reported as unreadable or unwritable.
    func nonBlockingPipes() throws {
        let storage = try maker.make(customPrefix: false)
        let content = patterned(maker.largeSize, seed: 12)
        let source = Pipe()
        try setNonBlocking(source.fileHandleForReading)
        let writer = Thread {
            // Late, so the first reads find the pipe empty.
            usleep(100_000)
            try? source.fileHandleForWriting.write(contentsOf: content)
            try? source.fileHandleForWriting.close()
        }
        writer.start()
        try storage.uploadFile(file: source.fileHandleForReading, fileName: "nb", context: "pipes", directStream: false)
        #expect(try storage.downloadFile("nb", context: "pipes") == content)

        let destination = Pipe()
        try setNonBlocking(destination.fileHandleForWriting)
        let received = DataBox()
        let reader = Thread {
            // Late, so the first writes find the pipe full.
            usleep(100_000)
            received.data = destination.fileHandleForReading.readDataToEndOfFile()
        }
        reader.start()
        #expect(try storage.downloadFile("nb", context: "pipes", to: destination.fileHandleForWriting) == content.count)
        try destination.fileHandleForWriting.close()
        while !reader.isFinished { usleep(1000) }
        #expect(received.data == content)
    }

    /// Every operation through `AsyncBaseStorage`: the same results as the synchronous calls.
    func asyncCounterparts() async throws {
        let storage = try #require(try maker.make(customPrefix: false) as? any AsyncBaseStorage)
        let content = patterned(maker.largeSize, seed: 13)
        #expect(try await storage.uploadFile(file: content, fileName: "a", context: "async", directStream: false) == "a")
        #expect(try await storage.uploadFile(file: "text", fileName: "t", context: "async", directStream: false) == "t")
        #expect(try await storage.downloadFile("a", context: "async") == content)
        #expect(try await storage.checkIfExists("a", context: "async"))
        #expect(try await storage.fileInfo("a", context: "async").size == Int64(content.count))
        #expect(try await storage.listStoredFiles("async") == ["a", "t"])
        let (destination, destinationPath) = try temporaryFile(Data())
        defer { try? destination.close(); unlink(destinationPath) }
        #expect(try await storage.downloadFile("a", context: "async", to: destination) == content.count)
        #expect(FileManager.default.contents(atPath: destinationPath) == content)
        let (source, sourcePath) = try temporaryFile(content)
        defer { try? source.close(); unlink(sourcePath) }
        #expect(try await storage.uploadFile(file: source, fileName: "h", context: "async", directStream: true) == "h")
        let opened = try await storage.getFileByHashcode("h", context: "async")
        defer { try? opened.close() }
        #expect(try opened.readToEnd() == content)
        try await storage.deleteFile("a", context: "async")
        #expect(try await !storage.checkIfExists("a", context: "async"))
        await #expect(throws: LocalStorageError.self) { try await storage.deleteFile("a", context: "async") }
    }

    func openedHandle() throws {
        let storage = try maker.make(customPrefix: false)
        let content = patterned(maker.largeSize, seed: 11)
        try storage.uploadFile(file: content, fileName: "h", context: "x/y", directStream: false)
        let handle = try storage.getFileByHashcode("h", context: "x/y")
        defer { try? handle.close() }
        #expect(try handle.offset() == 0)
        #expect(try handle.readToEnd() == content)
    }

    func listingSkipsSubcontexts() throws {
        let storage = try maker.make(customPrefix: false)
        for (name, context) in [("b", "ctx"), ("a", "ctx"), ("deep", "ctx/sub"), ("top", ""), ("other", "ctx2")] {
            try storage.uploadFile(file: name, fileName: name, context: context, directStream: false)
        }
        #expect(try storage.listStoredFiles("ctx") == ["a", "b"])
        #expect(try storage.listStoredFiles("ctx/sub") == ["deep"])
        #expect(try storage.listStoredFiles("") == ["top"])
        #expect(try storage.listStoredFiles("missing") == [])
        #expect(try storage.listStoredFiles("ct") == [])
    }

    /// More names than one ListObjectsV2 page (1,000) holds, uploaded from 8 threads.
    func listingPastOnePage() throws {
        let storage = try maker.make(customPrefix: false)
        let count = 1_050
        let failures = DataBox()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in stride(from: worker, to: count, by: 8) {
                do {
                    try storage.uploadFile(file: "\(index)", fileName: String(format: "n%05d", index), context: "many", directStream: false)
                } catch {
                    failures.append("\(error)\n")
                }
            }
        }
        #expect(failures.data.isEmpty, "\(String(decoding: failures.data, as: UTF8.self))")
        let names = try storage.listStoredFiles("many")
        #expect(names.count == count)
        #expect(names == (0..<count).map { String(format: "n%05d", $0) })
    }

    static let awkward = [
        "with space.txt", "plus+sign", "per%cent", "100%25", "ümlaut-ñ-日本語-🙂", "q?mark", "hash#tag", "amp&er=sand",
        "tilde~star*", "semi;colon,comma", "quote'\"", "back\\slash", " leading space", "trailing space ", "a+b c%20d",
        "<xml>&amp;", "e\u{301}-combining",
    ]

    func awkwardNames() throws {
        let storage = try maker.make(customPrefix: false)
        let context = "ctx with space/ü+%"
        for name in Self.awkward {
            try storage.uploadFile(file: Data(name.utf8), fileName: name, context: context, directStream: false)
        }
        #expect(Set(try storage.listStoredFiles(context)) == Set(Self.awkward))
        for name in Self.awkward {
            #expect(try storage.downloadFile(name, context: context) == Data(name.utf8), "\(name)")
            #expect(try storage.checkIfExists(name, context: context), "\(name)")
        }
        for name in Self.awkward { try storage.deleteFile(name, context: context) }
        #expect(try storage.listStoredFiles(context) == [])
    }

    func deletes() throws {
        let storage = try maker.make(customPrefix: false)
        try storage.uploadFile(file: patterned(maker.largeSize), fileName: "big", context: "d", directStream: false)
        try storage.uploadFile(file: "keep", fileName: "keep", context: "d", directStream: false)
        try storage.deleteFile("big", context: "d")
        #expect(try !storage.checkIfExists("big", context: "d"))
        #expect(try storage.listStoredFiles("d") == ["keep"])
        expectCode(.notFound) { try storage.deleteFile("big", context: "d") }
    }

    func notFound() throws {
        let storage = try maker.make(customPrefix: false)
        #expect(try !storage.checkIfExists("nothing", context: "none"))
        expectCode(.notFound) { _ = try storage.downloadFile("nothing", context: "none") }
        expectCode(.notFound) { _ = try storage.getFileByHashcode("nothing", context: "none") }
        expectCode(.notFound) { _ = try storage.fileInfo("nothing", context: "none") }
        expectCode(.notFound) { try storage.deleteFile("nothing", context: "") }
        let (handle, path) = try temporaryFile(Data())
        defer { try? handle.close(); unlink(path) }
        expectCode(.notFound) { _ = try storage.downloadFile("nothing", context: "none", to: handle) }
    }

    func invalidNames() throws {
        let storage = try maker.make(customPrefix: false)
        for name in ["", ".", "..", "a/b", ".ls-tmp-x", "nul\u{0}byte", String(repeating: "x", count: 256)] {
            expectCode(.invalidName) { try storage.uploadFile(file: "x", fileName: name, context: "", directStream: false) }
            expectCode(.invalidName) { _ = try storage.checkIfExists(name, context: "") }
        }
        for context in ["/absolute", "a//b", "a/../b", "./a", "a/"] {
            expectCode(.invalidName) { try storage.uploadFile(file: "x", fileName: "f", context: context, directStream: false) }
            expectCode(.invalidName) { _ = try storage.listStoredFiles(context) }
        }
    }

    func fileInfo() throws {
        let storage = try maker.make(customPrefix: false)
        let before = Date().addingTimeInterval(-120)
        try storage.uploadFile(file: patterned(4321), fileName: "info", context: "i", directStream: false)
        let info = try storage.fileInfo("info", context: "i")
        #expect(info.name == "info")
        #expect(info.size == 4321)
        #expect(info.modificationDate > before && info.modificationDate < Date().addingTimeInterval(120))
    }

    /// Synchronous calls from more tasks than the pool has threads, each blocking its thread:
    /// must not deadlock (a semaphore around a Task would). This check waits on a thread of its
    /// own, so that it holds no pool thread itself.
    func concurrentSyncCallers() async throws {
        let storage = try maker.make(customPrefix: false)
        let outcome = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.runSyncCallers(storage)) }.start()
        }
        #expect(outcome.isEmpty, "\(outcome)")
        #expect(try storage.listStoredFiles("pool").count == 16)
    }

    static func runSyncCallers(_ storage: any BaseStorage) -> String {
        let group = DispatchGroup()
        let failures = DataBox()
        for index in 0..<16 {
            group.enter()
            Task.detached {
                defer { group.leave() }
                do {
                    try storage.uploadFile(file: "v\(index)", fileName: "c\(index)", context: "pool", directStream: false)
                    _ = try storage.downloadFile("c\(index)", context: "pool")
                } catch {
                    failures.append("\(error)\n")
                }
            }
        }
        // A deadlock detector, not a speed bound: in a full `swift test` other suites' synchronous
        // tests (child processes, 1 GiB files) hold the pool's threads for minutes at a time on
        // two cores, and these tasks wait for them (seen: over 60 s for LocalStorage).
        guard group.wait(timeout: .now() + 600) == .success else {
            return "synchronous callers on the concurrency pool did not finish within 600 s"
        }
        return String(decoding: failures.data, as: UTF8.self)
    }
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = Data()
    var data: Data {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    func append(_ text: String) { lock.withLock { stored.append(contentsOf: Array(text.utf8)) } }
}
