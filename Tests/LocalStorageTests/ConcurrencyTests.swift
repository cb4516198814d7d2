import Foundation
import Synchronization
import Testing

@testable import LocalStorage

/// Many threads on one storage: every read is a complete version.
@Suite struct ConcurrencyTests {
    /// Version `k` is `size(k)` bytes, all equal to `k`: any torn or mixed read shows.
    static func version(_ k: UInt8) -> [UInt8] { [UInt8](repeating: k, count: 4096 + Int(k) * 1531) }

    static func isCompleteVersion(_ data: Data) -> Bool {
        guard let first = data.first else { return false }
        return data.count == 4096 + Int(first) * 1531 && data.allSatisfy { $0 == first }
    }

    @Test func eightThreadsUploadAndDownloadTheSameName() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        try storage.uploadFile(file: Self.version(1), fileName: "shared", context: "hot")
        let problems = Mutex<[String]>([])
        let reads = Atomic<Int>(0)
        let group = DispatchGroup()
        for thread in 0..<8 {
            group.enter()
            Thread {
                defer { group.leave() }
                for round in 0..<300 {
                    do {
                        if (thread + round) % 2 == 0 {
                            let k = UInt8(truncatingIfNeeded: thread * 31 + round) | 1
                            try storage.uploadFile(file: Self.version(k), fileName: "shared", context: "hot")
                        } else {
                            let data = try storage.downloadFile("shared", context: "hot")
                            reads.add(1, ordering: .relaxed)
                            if !Self.isCompleteVersion(data) {
                                problems.withLock { $0.append("torn read: \(data.count) bytes starting \(data.first ?? 0)") }
                            }
                        }
                    } catch {
                        problems.withLock { $0.append("\(error)") }
                    }
                }
            }.start()
        }
        group.wait()
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(5) })")
        #expect(reads.load(ordering: .relaxed) == 8 * 150)
        #expect(tempFiles(in: scratch.at("root/hot")).isEmpty)
        #expect(try storage.listStoredFiles("hot") == ["shared"])
    }

    @Test func threadsCreatingTheSameDeepContextRace() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for thread in 0..<8 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    try storage.uploadFile(file: "t\(thread)", fileName: "f\(thread)", context: "a/b/c/d/e")
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }.start()
        }
        group.wait()
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(try storage.listStoredFiles("a/b/c/d/e") == (0..<8).map { "f\($0)" })
        // listStoredFiles never shows temp files, so look at the directory itself.
        #expect(tempFiles(in: scratch.at("root/a/b/c/d/e")).isEmpty)
    }
}
