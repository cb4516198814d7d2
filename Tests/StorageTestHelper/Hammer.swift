// Many threads in one of several processes, all on the same names.
import Foundation
import Glibc
import LocalStorage
import StorageTestSupport
import Synchronization

func hammer(_ arguments: [String]) throws {
    guard arguments.count == 3, let seconds = Double(arguments[1]), let seed = UInt64(arguments[2]) else {
        fail("usage: hammer <root> <seconds> <seed>")
    }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    let deadline = Date().addingTimeInterval(seconds)
    let names = (0..<16).map { "n\($0)" }
    let group = DispatchGroup()
    let operations = Atomic<Int>(0)
    for thread in 0..<4 {
        group.enter()
        Thread {
            defer { group.leave() }
            var generator = SeededGenerator(seed: seed &+ UInt64(thread) &* 7919)
            var done = 0
            while Date() < deadline {
                let name = names[Int.random(in: 0..<names.count, using: &generator)]
                do {
                    switch Int.random(in: 0..<10, using: &generator) {
                    case 0..<4:
                        let version = SelfVerifying.make(seed: generator.next(), length: Int.random(in: 0...40_000, using: &generator))
                        try storage.uploadFile(file: version, fileName: name, context: "h")
                    case 4..<8:
                        let data = try storage.downloadFile(name, context: "h")
                        if !SelfVerifying.check(data) { fail("torn read of \(name): \(data.count) bytes") }
                    case 8:
                        try storage.deleteFile(name, context: "h")
                    default:
                        let listed = try storage.listStoredFiles("h")
                        if let stray = listed.first(where: { !names.contains($0) }) { fail("listed a stranger: \(stray)") }
                    }
                } catch let error as LocalStorageError where error.code == .notFound {
                    // Deleted by another thread or process: expected.
                } catch {
                    fail("thread \(thread): \(error)")
                }
                done += 1
            }
            operations.add(done, ordering: .relaxed)
        }.start()
    }
    group.wait()
    print("operations=\(operations.load(ordering: .relaxed))")
}
