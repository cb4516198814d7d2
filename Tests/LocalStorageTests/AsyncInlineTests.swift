// The async API's inline answers (issue 12): exists and small reads answered on the calling task
// when the kernel can answer without waiting, the same answers and errors as the synchronous
// calls, and the pool for everything else (large files, storages with limits, a cold cache).
import Foundation
import Glibc
import Testing

@testable import LocalStorage

@Suite struct AsyncInlineTests {
    /// Every kind of name in three contexts: the async calls answer as the synchronous ones do.
    @Test func inlineAnswersAreTheSynchronousCallsAnswers() async throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let small = Data(patternBytes(count: 4096, seed: 12))
        let big = Data(patternBytes(count: 128 * 1024, seed: 13))
        for context in ["", "c", "c/d"] {
            try await storage.uploadFile(file: small, fileName: "small", context: context)
            try await storage.uploadFile(file: big, fileName: "big", context: context)
            try await storage.uploadFile(file: Data(), fileName: "empty", context: context)
            let directory = context.isEmpty ? scratch.at("root") : scratch.at("root/" + context)
            #expect(mkdir(directory + "/dir", 0o755) == 0)
            #expect(symlink(scratch.at("outside"), directory + "/link") == 0)
            #expect(mkfifo(directory + "/fifo", 0o644) == 0)
        }
        write("outside", to: scratch.at("outside"))
        try await storage.uploadFile(file: small, fileName: "notadir", context: "")
        let contexts = ["", "c", "c/d", "missing", "notadir", "c/link"]
        let names = ["small", "big", "empty", "dir", "link", "fifo", "missing"]
        for context in contexts {
            for name in names {
                let label = "\(context)/\(name)"
                // Twice: the first call may warm the caches the second answers from.
                for _ in 0..<2 {
                    #expect(
                        outcome { try storage.checkIfExists(name, context: context) }
                            == (await asyncOutcome { try await storage.checkIfExists(name, context: context) }), "\(label)")
                    #expect(
                        outcome { try storage.downloadFile(name, context: context) }
                            == (await asyncOutcome { try await storage.downloadFile(name, context: context) }), "\(label)")
                    #expect(
                        outcome { try storage.downloadFileIfExists(name, context: context) }
                            == (await asyncOutcome { try await storage.downloadFileIfExists(name, context: context) }), "\(label)")
                }
            }
        }
        // Invalid names are refused before any syscall, inline as on the pool.
        #expect(await asyncOutcome { try await storage.checkIfExists("../x", context: "") } == "invalidName")
        #expect(await asyncOutcome { try await storage.downloadFile("a", context: "/abs") } == "invalidName")
    }

    /// Warm small files and missing names are answered without the pool; large files and a
    /// storage with limits (whose reads mark the access time) go to it.
    @Test func smallWarmCallsSkipThePool() async throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try await storage.uploadFile(file: Data(repeating: 7, count: 4096), fileName: "small", context: "c")
        try await storage.uploadFile(file: Data(repeating: 8, count: 64 * 1024 + 1), fileName: "big", context: "c")
        // Warm the entries (and the negative one) the way any first lookup does.
        _ = try await storage.checkIfExists("small", context: "c")
        _ = try await storage.checkIfExists("missing", context: "c")
        _ = try await storage.downloadFile("small", context: "c")
        let before = storage.engine.handedOff.load(ordering: .relaxed)
        for _ in 0..<100 {
            #expect(try await storage.checkIfExists("small", context: "c"))
            #expect(try await !storage.checkIfExists("missing", context: "c"))
            #expect(try await storage.downloadFile("small", context: "c").count == 4096)
            #expect(try await storage.downloadFileIfExists("missing", context: "c") == nil)
        }
        #expect(storage.engine.handedOff.load(ordering: .relaxed) == before, "warm small calls went to the pool")
        for _ in 0..<10 { #expect(try await storage.downloadFile("big", context: "c").count == 64 * 1024 + 1) }
        #expect(storage.engine.handedOff.load(ordering: .relaxed) == before + 10, "large reads must go to the pool")

        let limited = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: 1 << 30))
        _ = try await limited.downloadFile("small", context: "c")
        let limitedBefore = limited.engine.handedOff.load(ordering: .relaxed)
        #expect(try await limited.downloadFile("small", context: "c").count == 4096)
        #expect(try await limited.checkIfExists("small", context: "c"))
        #expect(limited.engine.handedOff.load(ordering: .relaxed) == limitedBefore + 1, "reads with limits go to the pool, exists need not")
    }

    /// With the kernel's dentry and inode caches dropped, RESOLVE_CACHED says EAGAIN and the
    /// call goes to the pool, with the right answer.
    @Test(.enabled(if: getuid() == 0, "dropping the kernel's caches needs root (CI runs as root)"))
    func aColdCacheGoesToThePool() async throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try await storage.uploadFile(file: Data(repeating: 9, count: 4096), fileName: "small", context: "c/d")
        var handedOff = false
        // A dentry in use elsewhere may survive a drop: a few attempts.
        for _ in 0..<5 where !handedOff {
            sync()
            let fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)
            try #require(fd >= 0, "cannot open /proc/sys/vm/drop_caches: errno \(errno)")
            _ = write(fd, "2", 1)
            close(fd)
            let before = storage.engine.handedOff.load(ordering: .relaxed)
            #expect(try await storage.downloadFile("small", context: "c/d") == Data(repeating: 9, count: 4096))
            handedOff = storage.engine.handedOff.load(ordering: .relaxed) > before
        }
        #expect(handedOff, "a read after dropping the caches was answered inline every time")
    }
}

/// A call's result or its error code, as a comparable string.
private func outcome<R>(_ body: () throws -> R) -> String {
    do { return "value \(try body())" } catch let error as LocalStorageError { return "\(error.code)" } catch { return "other \(error)" }
}

private func asyncOutcome<R>(_ body: () async throws -> R) async -> String {
    do { return "value \(try await body())" } catch let error as LocalStorageError { return "\(error.code)" } catch {
        return "other \(error)"
    }
}
