import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// Get-or-compute: one computation for many callers in threads and processes, a waiter taking
/// over from a killed or failing computer, damaged entries recomputed, errors reported as the
/// cache's, and every syscall of a miss under fault injection.
@Suite struct CacheTests {
    /// A scratch root and a work directory for the helper's markers.
    struct Fixture {
        let helper: String
        let scratch = Scratch()
        var root: String { scratch.at("root") }
        var work: String { scratch.at("work") }

        init() throws {
            helper = try #require(helperExecutable())
            try FileManager.default.createDirectory(atPath: scratch.at("work"), withIntermediateDirectories: true)
        }

        func exists(_ marker: String) -> Bool { FileManager.default.fileExists(atPath: work + "/" + marker) }

        /// The monotonic time a marker holds.
        func time(_ marker: String) -> UInt64? {
            contents(of: work + "/" + marker).flatMap {
                UInt64(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }

        func markers(_ prefix: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
        }

        /// Callers waiting in the kernel for the entry's lock.
        var waiters: Int { kernelLocks(root: root, offset: lockSlot(.cacheEntry, context: "c", name: "key")).waiting }
    }

    /// 4 processes x 4 threads ask for one missing entry at once: one computation, and all 16
    /// get its result.
    @Test(arguments: ["data", "object"])
    func fourProcessesOfFourThreadsComputeOnce(_ kind: String) throws {
        let fixture = try Fixture()
        let children = try (0..<4).map {
            try Child(fixture.helper, ["cache-race", fixture.root, fixture.work, "p\($0)", "4", "300", kind])
        }
        #expect(eventually { fixture.markers("ready-").count == 4 }, "the children never got ready")
        write("", to: fixture.work + "/go")
        var results: [String] = []
        for child in children {
            let result = child.finish()
            #expect(result.status == 0, "\(result.errors)")
            results += result.output.split(separator: "\n").filter { $0.hasPrefix("result=") }.map { String($0.dropFirst(7)) }
        }
        let computed = fixture.markers("computed-")
        #expect(computed.count == 1, "computations: \(computed)")
        #expect(results.count == 16)
        let by = computed.first.map { String($0.dropFirst("computed-".count)) } ?? "?"
        let expected = kind == "data" ? "computed by \(by)" : "\(by):100"
        #expect(results.allSatisfy { $0 == expected }, "\(results)")
        if kind == "data" {
            #expect(try LocalStorage(storagePath: fixture.root).downloadFile("key", context: "c") == Data(expected.utf8))
        }
    }

    /// The computing process is SIGKILLed mid-compute: a waiter, blocked in the kernel, takes
    /// over at once (no TTL, no polling interval), computes, and the other waiter gets its result.
    @Test func aWaiterTakesOverAtOnceWhenTheComputingProcessIsKilled() throws {
        let fixture = try Fixture()
        let computer = try Child(fixture.helper, ["cache-compute", fixture.root, fixture.work, "A", "hang", "0"])
        #expect(eventually { fixture.exists("computing-A") }, "A never computed")
        let waiters = try ["B", "C"].map { try Child(fixture.helper, ["cache-compute", fixture.root, fixture.work, $0, "ok", "50"]) }
        #expect(eventually { fixture.waiters == 2 }, "B and C never waited for A")
        let killedAt = monotonicNow()
        computer.kill()
        #expect(computer.finish().reason == .uncaughtSignal)
        let outputs = waiters.map { $0.finish() }
        for output in outputs { #expect(output.status == 0, "\(output.errors)") }

        let computing = fixture.markers("computing-").filter { $0 != "computing-A" }
        #expect(computing.count == 1, "computations after the kill: \(computing)")
        guard let winner = computing.first.map({ String($0.dropFirst("computing-".count)) }) else { return }
        #expect((fixture.time("computing-\(winner)") ?? 0) > killedAt, "\(winner) computed before A was killed")
        for output in outputs { #expect(output.output.contains("result=computed by \(winner)\n"), "\(output.output)") }
        #expect(try LocalStorage(storagePath: fixture.root).downloadFile("key", context: "c") == Data("computed by \(winner)".utf8))
        if let done = fixture.time("done-\(winner)"), let started = fixture.time("computing-\(winner)") {
            print(
                "cache: \(winner) started computing \(Double(started - killedAt) / 1e6) ms after the kill, done after \(Double(done - killedAt) / 1e6) ms (50 ms compute)"
            )
            #expect(done - killedAt < 20_000_000_000, "the takeover took \(done - killedAt) ns")
        }
    }

    /// The computing process's compute throws: that caller gets its error, nothing is stored,
    /// and the waiting process computes and gets its own result.
    @Test func aThrowingComputationFailsItsCallerOnlyAndAWaiterComputes() throws {
        let fixture = try Fixture()
        let failing = try Child(fixture.helper, ["cache-compute", fixture.root, fixture.work, "A", "throw", "0"])
        #expect(eventually { fixture.exists("computing-A") }, "A never computed")
        let waiter = try Child(fixture.helper, ["cache-compute", fixture.root, fixture.work, "B", "ok", "20"])
        #expect(eventually { fixture.waiters == 1 }, "B never waited for A")
        write("", to: fixture.work + "/throw-A")
        let a = failing.finish()
        let b = waiter.finish()
        #expect(a.status == 0 && b.status == 0, "\(a.errors) \(b.errors)")
        #expect(a.output == "threw=computation of A failed\n", "\(a.output)")
        #expect(b.output == "result=computed by B\n", "\(b.output)")
        #expect(fixture.markers("computing-") == ["computing-A", "computing-B"])
        #expect((fixture.time("computing-B") ?? 0) > (fixture.time("throw-A") ?? .max) || fixture.time("throw-A") == nil)
        #expect(try LocalStorage(storagePath: fixture.root).downloadFile("key", context: "c") == Data("computed by B".utf8))
    }

    /// Threads of one process: one computes, the others wait for it; when the computer throws,
    /// its error reaches it alone and exactly one waiter computes next.
    @Test func threadsOfOneProcessComputeOnceAndTakeOverFromAThrowingOne() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let root = storage.getRootPath()
        let counters = SharedCounters()
        let results = Shared<[String]>([])
        let errors = Shared<[String]>([])
        let release = Shared(false)
        let first = Shared<Int?>(nil)
        runThreadsInBackground(1) { _ in
            do {
                _ = try storage.cachedData(fileName: "key", context: "c") { () throws -> Data in
                    first.value = 0
                    counters.computations.add(1, ordering: .relaxed)
                    while !release.value { usleep(1000) }
                    throw ComputeFailure()
                }
                results.update { $0.append("thread 0 got a value") }
            } catch {
                errors.update { $0.append("\(error)") }
            }
        }
        #expect(eventually { first.value != nil })
        let slot = lockSlot(.cacheEntry, context: "c", name: "key")
        let finished = Shared(0)
        runThreadsInBackground(6) { index in
            do {
                let data = try storage.cachedData(fileName: "key", context: "c") {
                    counters.computations.add(1, ordering: .relaxed)
                    usleep(20_000)
                    return Data("computed by \(index)".utf8)
                }
                results.update { $0.append(String(decoding: data, as: UTF8.self)) }
            } catch {
                errors.update { $0.append("\(error)") }
            }
            finished.update { $0 += 1 }
        }
        #expect(eventually { kernelLocks(root: root, offset: slot).waiting == 6 }, "the threads never waited")
        release.value = true
        #expect(eventually { finished.value == 6 && errors.value.count + results.value.count == 7 })
        #expect(errors.value == ["ComputeFailure()"])
        #expect(counters.computations.load(ordering: .relaxed) == 2)
        #expect(Set(results.value).count == 1 && results.value.count == 6, "\(results.value)")
        #expect(try storage.downloadFile("key", context: "c") == results.value.first.map { Data($0.utf8) })
    }

    #if ENABLE_MOCKING
    /// A hit is one lookup and one read: no lock, no write, no computation.
    @Test func aHitIsOneLookupAndOneRead() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "stored", fileName: "key", context: "c")
        let injector = FaultInjector()
        let data = try injector.run { try storage.cachedData(fileName: "key", context: "c") { Data("computed".utf8) } }
        #expect(data == Data("stored".utf8))
        #expect(injector.calls(to: .openat2) == 1 && injector.calls(to: .read) == 1)
        let others = Syscall.allCases.filter { ![.openat2, .fstat, .read, .close].contains($0) && injector.calls(to: $0) > 0 }
        #expect(others.isEmpty, "a hit called \(others)")
    }
    #endif

    /// A stored entry that is damaged (`.corrupted`) or of another type (`.decodingFailed`) is
    /// recomputed and replaced; a raw entry is a hit for cachedData whatever its bytes.
    @Test func damagedOrRetypedEntriesAreRecomputed() throws {
        struct Old: Codable, Equatable { var name: String }
        struct New: Codable, Equatable { var count: Int }
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Data([0xde, 0xad, 0xbe, 0xef]), fileName: "damaged", context: "c")
        let fixed = try storage.cachedObject(New.self, fileName: "damaged", context: "c") { New(count: 1) }
        #expect(fixed == New(count: 1))
        #expect(try storage.downloadObject(New.self, fileName: "damaged", context: "c") == New(count: 1))

        try storage.uploadObject(Old(name: "old"), fileName: "retyped", context: "c")
        let retyped = try storage.cachedObject(New.self, fileName: "retyped", context: "c") { New(count: 2) }
        #expect(retyped == New(count: 2))
        #expect(try storage.cachedObject(New.self, fileName: "retyped", context: "c") { New(count: 3) } == New(count: 2))

        let raw = try storage.cachedData(fileName: "damaged", context: "c") { Data("recomputed".utf8) }
        #expect(raw == (try storage.downloadFile("damaged", context: "c")))
        #expect(raw != Data("recomputed".utf8))
    }

    /// A compute closure asking for its own entry gets an error instead of waiting for itself;
    /// other entries may be computed inside it. (On a thread of its own, so that a regression
    /// shows as a failure rather than a hung test run.)
    @Test func aComputationAskingForItsOwnEntryThrowsInsteadOfHanging() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let outer = Shared<LocalStorageError?>(nil)
        let finished = Shared(false)
        runThreadsInBackground(1) { _ in
            outer.value = expectError(.invalidArgument) {
                try storage.cachedData(fileName: "key", context: "c") {
                    try storage.cachedData(fileName: "key", context: "c") { Data("inner".utf8) }
                }
            }
            finished.value = true
        }
        #expect(eventually { finished.value }, "a computation asking for its own entry hung")
        #expect(outer.value?.operation == .cache)
        #expect(try storage.downloadFileIfExists("key", context: "c") == nil, "something was stored")
        let nested = try storage.cachedData(fileName: "outer", context: "c") {
            try storage.cachedData(fileName: "inner", context: "c") { Data("inner".utf8) } + Data(" outer".utf8)
        }
        #expect(nested == Data("inner outer".utf8))
        #expect(try storage.downloadFile("inner", context: "c") == Data("inner".utf8))
    }

    /// Failures of the cache's own calls carry `.cache`; the compute closure's pass unchanged;
    /// the entry's name goes through `fileName(for:)`, its lock follows the stored name.
    @Test func errorsAreReportedAsTheCachesAndComputeErrorsPassUnchanged() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        for name in ["", "..", "a/b", ".ls-meta"] {
            let error = expectError(.invalidName) { try storage.cachedData(fileName: name, context: "c") { Data() } }
            #expect(error?.operation == .cache)
            let objectError = expectError(.invalidName) { try storage.cachedObject(Int.self, fileName: name, context: "c") { 1 } }
            #expect(objectError?.operation == .cache)
        }
        try FileManager.default.createDirectory(atPath: storage.getRootPath() + "/c/dir", withIntermediateDirectories: true)
        let notFile = expectError(.notARegularFile) {
            try storage.cachedData(fileName: "dir", context: "c") {
                Issue.record("computed over a directory"); return Data()
            }
        }
        #expect(notFile?.operation == .cache)
        let mine = LocalStorageError(code: .remote, operation: .download, message: "the caller's own")
        do {
            _ = try storage.cachedData(fileName: "key", context: "c") { throw mine }
            Issue.record("no error")
        } catch let error as LocalStorageError {
            #expect(error.code == .remote && error.operation == .download && error.message == "the caller's own")
        }
        #expect(try storage.downloadFileIfExists("key", context: "c") == nil)

        let mapped = try CustomNamedStorage(storagePath: scratch.at("mapped"), durability: .noSync)
        #expect(try mapped.cachedData(fileName: "key", context: "c") { Data("v".utf8) } == Data("v".utf8))
        #expect(try mapped.listStoredFiles("c") == ["custom_prefix_key"])
        #expect(try mapped.cachedData(fileName: "key", context: "c") { Data("again".utf8) } == Data("v".utf8))
    }

    /// A named lock of the entry's name does not delay the entry's computation.
    @Test func namedLocksDoNotDelayCacheEntries() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let lock = try #require(try storage.tryLock("key", context: "c"))
        #expect(try storage.cachedData(fileName: "key", context: "c") { Data("v".utf8) } == Data("v".utf8))
        lock.unlock()
    }

    #if ENABLE_MOCKING
    /// Every syscall of a miss (lookups, the lock, the store), at every call index: EINTR is
    /// invisible; any other errno fails with a `LocalStorageError` of operation `.cache` naming
    /// it, or is harmless; compute runs at most once; the entry is absent or complete; nothing
    /// stays locked or open, and no temp file is left.
    @Test(arguments: [true, false])
    func everySyscallOfAMissUnderFaults(freshRoot: Bool) throws {
        func setUp() throws -> (Scratch, LocalStorage) {
            let scratch = Scratch()
            let storage = try scratch.storage()
            if !freshRoot { _ = try storage.cachedData(fileName: "warm", context: "c") { Data("warm".utf8) } }
            return (scratch, storage)
        }
        let value = Data("computed".utf8)
        let (cleanScratch, cleanStorage) = try setUp()
        let clean = FaultInjector()
        #expect(try clean.run { try cleanStorage.cachedData(fileName: "key", context: "c") { value } } == value)
        _ = cleanScratch
        let sites = Syscall.allCases.flatMap { syscall in (0..<clean.calls(to: syscall)).map { (syscall, $0 + 1) } }
        #expect(clean.calls(to: .ofdSetLockWait) == 1 && clean.calls(to: .renameat) == 1)

        var failures = 0
        for (syscall, index) in sites {
            for code in [EINTR, EIO, ENOLCK, EACCES, ENOSPC] {
                let label = "fresh=\(freshRoot) \(syscall.rawValue) #\(index) \(Errno(rawValue: code).name)"
                let (scratch, storage) = try setUp()
                let computations = SharedCounters()
                let injector = FaultInjector([.init(syscall: syscall, call: index, repeats: false, fault: .fail(code))])
                let outcome = injector.run {
                    Result {
                        try storage.cachedData(fileName: "key", context: "c") {
                            computations.computations.add(1, ordering: .relaxed)
                            return value
                        }
                    }
                }
                #expect(injector.injectedCount == 1, "\(label): the call was never reached")
                #expect(computations.computations.load(ordering: .relaxed) <= 1, "\(label): computed twice")
                switch outcome {
                case .success(let data):
                    #expect(data == value, "\(label)")
                    #expect(try storage.downloadFile("key", context: "c") == value, "\(label): not stored")
                case .failure(let error as LocalStorageError):
                    #expect(code != EINTR, "\(label): EINTR was not retried: \(error)")
                    #expect(error.operation == .cache && error.syscall == syscall.rawValue && error.errno == code, "\(label): \(error)")
                    let mapped = LocalStorageError.Code(mapping: Errno(rawValue: code), from: syscall)
                    #expect(error.code == mapped || error.code == .durabilityUnknown, "\(label): \(error)")
                    let stored = try storage.downloadFileIfExists("key", context: "c")
                    #expect(stored == nil || stored == value, "\(label): a torn entry")
                    failures += 1
                case .failure(let error):
                    Issue.record("\(label): not a LocalStorageError: \(error)")
                }
                let root = storage.getRootPath()
                #expect(lockFileDescriptors(root: root) == 0, "\(label): a descriptor of the lock file was left open")
                #expect(tempFiles(in: root + "/c").isEmpty, "\(label): a temp file was left")
                if let lock = try storage.acquire(
                    .cacheEntry, Target(context: "c", name: "key"), wait: .never, scoped: false, operation: .cache)
                {
                    lock.release()
                } else {
                    Issue.record("\(label): the entry's lock was left held")
                }
                _ = scratch
            }
        }
        // The lock's own calls must fail loudly (the wait, for one).
        #expect(failures > sites.count, "too few injected failures surfaced: \(failures)")
        print("cache faults, fresh=\(freshRoot): \(sites.count) call sites x 5 errnos, \(failures) failures surfaced")
    }
    #endif
}

struct ComputeFailure: Error {}

final class CustomNamedStorage: LocalStorage, @unchecked Sendable {
    override func fileName(for name: String) -> String { "custom_prefix_\(name)" }
}
