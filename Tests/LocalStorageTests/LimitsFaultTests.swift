// Faults in the size-management paths: every syscall an evicting upload, a prune and a read of
// a storage with limits make, failed at every call index with EIO and with EINTR. Eviction is
// best effort and must never cost more than the files it chose: EINTR changes nothing, a
// failure leaves every file it did not choose whole, no temp name behind, and the next call
// working with an exact count.
#if ENABLE_MOCKING
import Foundation
import Glibc
import Testing

@testable import LocalStorage

@Suite struct LimitsFaultTests {
    static let syscalls: [Syscall] = [
        .openat, .openat2, .fstatat, .fstat, .getdents64, .renameat, .renameat2, .unlinkat, .flock, .pread, .pwrite, .futimens,
    ]

    /// Ten files f0 (least recently used) ... f9 under `maxFiles: 10`.
    struct Fixture {
        let scratch = Scratch()
        let storage: LocalStorage

        init() throws {
            storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxFiles: 10))
            for index in 0..<10 {
                try storage.uploadFile(file: Self.content(index), fileName: "f\(index)", context: "c")
                LimitsTests.age(scratch.at("root/c/f\(index)"), secondsAgo: 1_000 - index)
            }
        }

        static func content(_ index: Int) -> Data { Data(patternBytes(count: 100 + index, seed: UInt64(index + 1))) }

        /// Every stored file holds its own content; returns the names present.
        func checkWhole(_ label: String) -> Set<String> {
            var present: Set<String> = []
            for index in 0..<11 {
                let name = index == 10 ? "new" : "f\(index)"
                guard let data = contents(of: scratch.at("root/c/\(name)")) else { continue }
                present.insert(name)
                #expect(data == Self.content(index), "\(label): \(name) is not whole")
            }
            #expect(tempFiles(in: scratch.at("root/c")).isEmpty, "\(label): a temp name was left behind")
            return present
        }

        /// The next calls work and the count is exact.
        func checkRecovers(_ label: String) throws {
            try storage.uploadFile(file: Data(count: 1), fileName: "after", context: "d")
            let counted = LimitsTests.bytesOnDisk(scratch.at("root"))
            #expect(try storage.usage() == StorageUsage(files: counted.files, bytes: counted.bytes), "\(label)")
        }
    }

    /// How many times a clean run of `body` on a fresh fixture calls each syscall.
    static func cleanCalls(_ body: (Fixture) throws -> Void) throws -> [Syscall: Int] {
        let fixture = try Fixture()
        let injector = FaultInjector()
        try injector.run { try body(fixture) }
        return Dictionary(uniqueKeysWithValues: syscalls.map { ($0, injector.calls(to: $0)) })
    }

    /// Runs `body` on a fresh fixture for every (syscall, call index, errno), then `check`.
    static func sweep(
        _ body: (Fixture) throws -> Void, check: (Fixture, _ label: String, _ succeeded: Bool, _ errno: CInt) throws -> Void
    ) throws -> Int {
        let counts = try cleanCalls(body)
        var cases = 0
        for syscall in syscalls {
            for call in stride(from: 1, through: counts[syscall, default: 0], by: 1) {
                for code in [EIO, EINTR] {
                    let fixture = try Fixture()
                    let injector = FaultInjector([.init(syscall: syscall, call: call, repeats: false, fault: .fail(code))])
                    let label = "\(syscall.rawValue) #\(call) \(code == EINTR ? "EINTR" : "EIO")"
                    var succeeded = true
                    do {
                        try injector.run { try body(fixture) }
                    } catch let error as LocalStorageError {
                        succeeded = false
                        #expect(code != EINTR, "\(label): EINTR surfaced as \(error)")
                    }
                    try check(fixture, label, succeeded, code)
                    cases += 1
                }
            }
        }
        return cases
    }

    /// An upload that makes the root go over `maxFiles` and trims it to 9 files: f0 and f1 go.
    @Test func evictingUpload() throws {
        let cases = try Self.sweep({ try $0.storage.uploadFile(file: Fixture.content(10), fileName: "new", context: "c") }) {
            fixture, label, succeeded, code in
            let present = fixture.checkWhole(label)
            // A file whose removal failed is passed over for the next least recently used.
            #expect(present.isSuperset(of: (3..<10).map { "f\($0)" }), "\(label): eviction went past LRU order: \(present.sorted())")
            #expect(present.contains("new") == succeeded, "\(label): the upload's result does not match the stored state")
            if code == EINTR { #expect(present == Set((2..<10).map { "f\($0)" } + ["new"]), "\(label): \(present.sorted())") }
            try fixture.checkRecovers(label)
        }
        print("LimitsFault evicting upload: \(cases) cases")
        #expect(cases > 50)
    }

    /// `prune` to five files: f0...f4 go; it reports a failure or does exactly that.
    @Test func prune() throws {
        let cases = try Self.sweep({ try $0.storage.prune(CacheLimits(maxFiles: 5)) }) { fixture, label, succeeded, code in
            let present = fixture.checkWhole(label)
            // A file whose removal failed is passed over for the next least recently used.
            #expect(present.isSuperset(of: (6..<10).map { "f\($0)" }), "\(label): prune went past LRU order: \(present.sorted())")
            if succeeded { #expect(present.count <= 5, "\(label): prune succeeded above its limit: \(present.sorted())") }
            if code == EINTR { #expect(present == Set((5..<10).map { "f\($0)" }), "\(label): \(present.sorted())") }
            try fixture.checkRecovers(label)
        }
        print("LimitsFault prune: \(cases) cases")
        #expect(cases > 30)
    }

    /// A read marks the file used; a failure to mark it never fails the read.
    @Test func readMarksUsedBestEffort() throws {
        let cases = try Self.sweep({ fixture throws in
            let data = try fixture.storage.downloadFile("f3", context: "c")
            #expect(data == Fixture.content(3))
        }) { fixture, label, succeeded, code in
            _ = fixture.checkWhole(label)
            if label.hasPrefix("futimens") { #expect(succeeded, "\(label): a failed mark failed the read") }
            try fixture.checkRecovers(label)
        }
        #expect(cases >= 2)
    }

    /// A file read or replaced between the walk that chose it and its removal survives: the
    /// capture sees it changed and puts it back, and the next least recently used goes instead.
    @Test(arguments: ["read", "replace"])
    func aFileUsedWhilePruneRunsSurvives(_ use: String) throws {
        let fixture = try Fixture()
        let storage = fixture.storage
        let hook = FaultInjector.Hook(syscall: .renameat, call: 1) {
            // Just before the capture of f0, the least recently used.
            if use == "read" {
                #expect((try? storage.downloadFile("f0", context: "c")) == Fixture.content(0))
            } else {
                #expect((try? storage.uploadFile(file: Fixture.content(10), fileName: "f0", context: "c")) != nil)
            }
        }
        let report = try FaultInjector(hooks: [hook]).run { try storage.prune(CacheLimits(maxFiles: 9)) }
        #expect(report.removedFiles == 1 && report.remainingFiles == 9)
        #expect(try storage.listStoredFiles("c") == (0..<10).filter { $0 != 1 }.map { "f\($0)" })
        #expect(try storage.downloadFile("f0", context: "c") == Fixture.content(use == "read" ? 0 : 10))
        #expect(tempFiles(in: fixture.scratch.at("root/c")).isEmpty)
    }
}
#endif
