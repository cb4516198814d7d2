// Size management: file metadata, exact usage and prune, automatic eviction under limits with
// concurrent readers and writers.
import Foundation
import Glibc
import Synchronization
import Testing

@testable import LocalStorage

@Suite struct LimitsTests {
    /// Sets a stored file's last use and modification (atime and mtime) to `secondsAgo` in the
    /// past.
    static func age(_ path: String, secondsAgo: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let past = timespec(tv_sec: now.tv_sec - secondsAgo, tv_nsec: 0)
        #expect(utimensat(AT_FDCWD, path, [past, past], 0) == 0, sourceLocation: sourceLocation)
    }

    /// The bytes of regular files under `root`, engine files excluded, walked with Foundation.
    static func bytesOnDisk(_ root: String) -> (files: Int, bytes: Int64) {
        var files = 0
        var bytes: Int64 = 0
        for case let path as String in FileManager.default.enumerator(atPath: root) ?? FileManager.DirectoryEnumerator() {
            if path.split(separator: "/").contains(where: { $0.hasPrefix(".ls-") }) { continue }
            var status = stat()
            if lstat(root + "/" + path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG {
                files += 1
                bytes += Int64(status.st_size)
            }
        }
        return (files, bytes)
    }

    @Test func fileInfoAndUsageSeeOnlyUserFiles() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: 1 << 30))
        let before = Date()
        try storage.uploadFile(file: Data(count: 1_000), fileName: "b", context: "c")
        try storage.uploadFile(file: Data(count: 10), fileName: "a", context: "c")
        try storage.uploadFile(file: Data(count: 5), fileName: "root-file", context: "")
        write("temp", to: scratch.at("root/c/.ls-tmp-00000000000000dd"))
        let info = try storage.fileInfo("b", context: "c")
        #expect(info.name == "b" && info.size == 1_000)
        #expect(info.modificationDate >= before.addingTimeInterval(-1) && info.modificationDate <= Date().addingTimeInterval(1))
        #expect(try storage.listStoredFileInfo("c").map(\.name) == ["a", "b"])
        #expect(try storage.listStoredFileInfo("missing") == [])
        #expect(try storage.usage() == StorageUsage(files: 3, bytes: 1_015))
        expectError(.notFound) { try storage.fileInfo("zzz", context: "c") }
        expectError(.notARegularFile) { try storage.fileInfo("c", context: "") }
        // A read through a storage with limits marks the file used.
        Self.age(scratch.at("root/c/a"), secondsAgo: 3_600)
        #expect(try storage.fileInfo("a", context: "c").lastUsedDate < Date().addingTimeInterval(-3_000))
        _ = try storage.downloadFile("a", context: "c")
        #expect(try storage.fileInfo("a", context: "c").lastUsedDate > Date().addingTimeInterval(-60))
        // Deletes are accounted.
        try storage.deleteFile("root-file", context: "")
        #expect(try storage.usage() == StorageUsage(files: 2, bytes: 1_010))
    }

    @Test func pruneRemovesExpiredThenLeastRecentlyUsed() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        for index in 0..<10 {
            try storage.uploadFile(file: Data(count: 100), fileName: "f\(index)", context: "p")
            // f0 is the least recently used, f9 the most.
            Self.age(scratch.at("root/p/f\(index)"), secondsAgo: 1_000 - index * 10)
        }
        Self.age(scratch.at("root/p/f9"), secondsAgo: 10 * 86_400)  // unused for ten days
        let report = try storage.prune(CacheLimits(maxFiles: 5, maxAge: .seconds(5 * 86_400)))
        #expect(report == PruneReport(removedFiles: 5, removedBytes: 500, remainingFiles: 5, remainingBytes: 500))
        #expect(try storage.listStoredFiles("p") == ["f4", "f5", "f6", "f7", "f8"])
        let bytes = try storage.prune(CacheLimits(maxBytes: 250))
        #expect(bytes.remainingBytes == 200 && bytes.removedFiles == 3)
        #expect(try storage.listStoredFiles("p") == ["f7", "f8"])
        #expect(try storage.prune(CacheLimits()).removedFiles == 0)
    }

    /// Uploads keep the root within its limit automatically: after every upload it exceeds
    /// maxBytes by at most 10% plus the largest file, and a file read recently survives.
    @Test func uploadsKeepTheRootWithinItsLimits() throws {
        let scratch = Scratch()
        let limit: Int64 = 64 << 10
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: limit))
        try storage.uploadFile(file: Data(count: 1_024), fileName: "keep", context: "hot")
        var worst: Int64 = 0
        for index in 0..<400 {
            _ = try storage.downloadFile("keep", context: "hot")
            try storage.uploadFile(file: Data(count: 1_024 + index % 7), fileName: "f\(index)", context: "ctx\(index % 5)")
            let total = Self.bytesOnDisk(scratch.at("root")).bytes
            worst = max(worst, total)
            #expect(total <= limit + limit / 10 + 1_100, "after upload \(index): \(total) bytes")
        }
        print("limits: worst total \(worst) bytes for a limit of \(limit)")
        #expect(worst > limit * 8 / 10, "the limit was never approached: the test proves nothing")
        #expect(try storage.checkIfExists("keep", context: "hot"), "the file read before every upload was evicted")
        // The counter matches the tree.
        let counted = Self.bytesOnDisk(scratch.at("root"))
        #expect(try storage.usage() == StorageUsage(files: counted.files, bytes: counted.bytes))
    }

    /// Eviction while other threads read and write: a read returns a complete version or
    /// reports the file missing, never a torn one.
    @Test func evictionNeverTearsAConcurrentRead() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(
            storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: 256 << 10, maxFiles: 40))
        let problems = Mutex<[String]>([])
        let group = DispatchGroup()
        for thread in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                for round in 0..<150 {
                    let name = "f\((thread * 7 + round) % 60)"
                    do {
                        if (thread + round) % 2 == 0 {
                            let byte = UInt8(truncatingIfNeeded: round)
                            try storage.uploadFile(file: Data(repeating: byte, count: 8_192), fileName: name, context: "c")
                        } else if let data = try storage.downloadFileIfExists(name, context: "c") {
                            if data.count != 8_192 || Set(data).count != 1 { problems.withLock { $0.append("torn \(name)") } }
                        }
                    } catch {
                        problems.withLock { $0.append("\(error)") }
                    }
                }
            }.start()
        }
        group.wait()
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(3) })")
        let counted = Self.bytesOnDisk(scratch.at("root"))
        #expect(counted.files <= 44 && counted.bytes <= (256 << 10) * 11 / 10 + 8_192)
    }

    /// Another process's eviction is seen through the shared counter: two storages (one per
    /// "process") on one root with limits keep it bounded together.
    @Test func twoInstancesShareTheCounter() throws {
        let scratch = Scratch()
        let limits = CacheLimits(maxBytes: 32 << 10)
        let first = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: limits)
        let second = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: limits)
        for index in 0..<200 {
            try (index % 2 == 0 ? first : second).uploadFile(file: Data(count: 1_000), fileName: "f\(index)", context: "")
            #expect(Self.bytesOnDisk(scratch.at("root")).bytes <= (32 << 10) * 11 / 10 + 1_000)
        }
    }

    /// Four processes upload and read under one limit: the usage counter and the cleaner's lock
    /// are shared through the root, no read is torn, and the root stays bounded while they run
    /// (sampled from outside: 10% over the limit, plus one file in flight per writer).
    @Test func processesShareOneLimit() throws {
        let helper = try #require(helperExecutable(), "the StorageTestHelper executable is built with the tests")
        let scratch = Scratch()
        let limit: Int64 = 128 << 10
        _ = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: limit))
        let writers = try (0..<4).map { index in
            try startHelper(helper, ["limits-writer", scratch.at("root"), "\(limit)", "300", "\(index + 1)"])
        }
        var worst: Int64 = 0
        while writers.contains(where: \.isRunning) {
            worst = max(worst, Self.bytesOnDisk(scratch.at("root")).bytes)
            usleep(2_000)
        }
        for writer in writers {
            #expect(writer.terminationReason == .exit && writer.terminationStatus == 0, "a writer failed (1: torn read)")
        }
        print("limits: 4 processes, worst sampled total \(worst) bytes for a limit of \(limit)")
        #expect(worst <= limit + limit / 10 + 4 * 8_192)
        #expect(worst > limit * 7 / 10, "the limit was never approached: the test proves nothing")
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: limit))
        let counted = Self.bytesOnDisk(scratch.at("root"))
        #expect(try storage.usage() == StorageUsage(files: counted.files, bytes: counted.bytes))
        #expect(counted.bytes <= limit + limit / 10 + 8_192)
    }

    /// With `maxAge`, an upload removes files unused for longer than it, even when the root is
    /// within its size limits, once no trim ran for a quarter of `maxAge`.
    @Test func uploadsRemoveExpiredFiles() throws {
        let scratch = Scratch()
        let limits = CacheLimits(maxAge: .seconds(600))
        let first = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: limits)
        try first.uploadFile(file: Data(count: 10), fileName: "old", context: "c")
        try first.uploadFile(file: Data(count: 10), fileName: "recent", context: "c")
        Self.age(scratch.at("root/c/old"), secondsAgo: 3_600)
        Self.age(scratch.at("root/c/recent"), secondsAgo: 60)
        // The last trim was long ago, as the cleaner's lock file says to every process.
        Self.age(scratch.at("root/.ls-meta/cleanup"), secondsAgo: 3_600)
        let second = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: limits)
        try second.uploadFile(file: Data(count: 10), fileName: "new", context: "c")
        #expect(try second.listStoredFiles("c") == ["new", "recent"])
        #expect(try second.usage() == StorageUsage(files: 2, bytes: 20))
    }

    /// The counter is an estimate between walks: one that drifted (a crash between a rename and
    /// its update, a writer without limits, a power cut) is corrected by the next trim, and
    /// `usage()` corrects it too; a bogus high count removes nothing the real totals keep.
    @Test func aDriftedCounterIsCorrected() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: 10_000))
        for index in 0..<5 { try storage.uploadFile(file: Data(count: 1_000), fileName: "f\(index)", context: "") }
        let counter = scratch.at("root/.ls-meta/usage")
        Self.overwriteCounter(counter, files: 1_000_000, bytes: 1 << 40)
        try storage.uploadFile(file: Data(count: 1_000), fileName: "f5", context: "")
        #expect(try storage.listStoredFiles("") == ["f0", "f1", "f2", "f3", "f4", "f5"], "the walk's totals decide, not the counter")
        #expect(Self.counterValue(counter) == [6, 6_000])
        Self.overwriteCounter(counter, files: 0, bytes: 0)
        #expect(try storage.usage() == StorageUsage(files: 6, bytes: 6_000))
        #expect(Self.counterValue(counter) == [6, 6_000])
    }

    /// Overwrites `.ls-meta/usage` in place (the engine keeps it open).
    static func overwriteCounter(_ path: String, files: Int64, bytes: Int64) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        #expect(fd != -1, "cannot open the counter: errno \(errno)")
        let raw = [files.littleEndian, bytes.littleEndian]
        #expect(raw.withUnsafeBytes { pwrite(fd, $0.baseAddress, 16, 0) } == 16)
        close(fd)
    }

    /// The two numbers in `.ls-meta/usage`.
    static func counterValue(_ path: String) -> [Int64] {
        guard let data = contents(of: path), data.count == 16 else { return [] }
        return [0, 8].map { offset in data[offset..<offset + 8].enumerated().reduce(Int64(0)) { $0 | Int64($1.element) << (8 * $1.offset) }
        }
    }

    /// Names made by other programs that are not UTF-8 are user files too: counted and pruned,
    /// though `listStoredFileInfo` (like `listStoredFiles`) cannot name them.
    @Test func namesThatAreNotUTF8AreCountedAndPruned() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Data(count: 7), fileName: "ok", context: "c")
        let raw: [CChar] = Array(scratch.at("root/c/").utf8CString.dropLast()) + [CChar(bitPattern: 0xff), 0x41, 0]
        let fd = open(raw, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        #expect(fd != -1, "cannot create the non-UTF-8 name: errno \(errno)")
        #expect(write(fd, "abc", 3) == 3)
        close(fd)
        Self.age(scratch.at("root/c/ok"), secondsAgo: 10)
        #expect(try storage.usage() == StorageUsage(files: 2, bytes: 10))
        #expect(try storage.listStoredFileInfo("c").map(\.name) == ["ok"])
        // The non-UTF-8 file was used last: prune to one file keeps it.
        #expect(try storage.prune(CacheLimits(maxFiles: 1)).removedFiles == 1)
        #expect(try storage.usage() == StorageUsage(files: 1, bytes: 3))
    }

    /// Bad input to the new calls gets the same typed errors as every other call.
    @Test func infoValidatesAndRefusesWhatIsNotAFile() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        expectError(.invalidName) { try storage.fileInfo("../x", context: "c") }
        expectError(.invalidName) { try storage.fileInfo(".ls-meta", context: "") }
        expectError(.invalidName) { try storage.listStoredFileInfo("../..") }
        try storage.uploadFile(file: Data(count: 3), fileName: "target", context: "c")
        #expect(symlink(scratch.at("root/c/target"), scratch.at("root/c/link")) == 0)
        expectError(.notARegularFile) { try storage.fileInfo("link", context: "c") }
        #expect(try storage.listStoredFileInfo("c").map(\.name) == ["target"])
        #expect(try storage.fileInfo("target", context: "c").size == 3)
    }

    /// Limits a hostile or careless caller may pass: the largest values prune without trapping
    /// and remove nothing; negative ones are refused before any syscall.
    @Test func extremeAndNegativeLimits() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Data(count: 10), fileName: "f", context: "c")
        let huge = CacheLimits(maxBytes: .max, maxFiles: .max, maxAge: .seconds(Int64.max))
        #expect(try storage.prune(huge).removedFiles == 0)
        _ = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: huge)
        try storage.uploadFile(file: Data(count: 10), fileName: "g", context: "c")
        #expect(try storage.listStoredFiles("c") == ["f", "g"])
        expectError(.invalidArgument) { try storage.prune(CacheLimits(maxBytes: -1)) }
        expectError(.invalidArgument) { try storage.prune(CacheLimits(maxFiles: -1)) }
        expectError(.invalidArgument) { try storage.prune(CacheLimits(maxAge: .seconds(-1))) }
        expectError(.invalidArgument) { try LocalStorage(storagePath: scratch.at("root"), limits: CacheLimits(maxAge: .seconds(-5))) }
        #expect(try storage.listStoredFiles("c") == ["f", "g"])
    }
}
