// A child process for the async API's starvation test: its own cooperative pool, shared with
// nothing else.
import Dispatch
import Foundation
import Glibc
import LocalStorage
import Synchronization

/// Results handed from the test's tasks to the main thread.
final class StarvationOutcome: Sendable {
    let worstMicroseconds = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let failure = Mutex<String?>(nil)
    let done = Atomic<Bool>(false)
}

/// `async-starvation <root> <downloads>`: stores a 64 MiB file, then runs that many concurrent
/// async downloads of it (to /dev/null, kernel-side) while a timer task sleeps 10 ms at a time;
/// prints "bytes=<n> worst_us=<worst lateness> threads=<cores>".
func asyncStarvation(_ arguments: [String]) throws {
    guard arguments.count >= 2, let downloads = Int(arguments[1]) else { fail("usage: async-starvation <root> <downloads> [pool-threads]") }
    if arguments.count > 2, let threads = Int(arguments[2]) { IOThreadPool.shared.maximumThreads = threads }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    var bytes = [UInt8](repeating: 0, count: 64 << 20)
    for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index >> 12) }
    try storage.uploadFile(file: bytes, fileName: "big", context: "")
    let sink = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/null"))
    let outcome = StarvationOutcome()
    let finished = DispatchSemaphore(value: 0)
    Task {
        defer { finished.signal() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let clock = ContinuousClock()
                while !outcome.done.load(ordering: .relaxed) {
                    let start = clock.now
                    try? await Task.sleep(for: .milliseconds(10))
                    let late = (clock.now - start - .milliseconds(10)).components
                    let micros = Int(late.seconds) * 1_000_000 + Int(late.attoseconds / 1_000_000_000_000)
                    _ = outcome.worstMicroseconds.max(micros, ordering: .relaxed)
                }
            }
            await withTaskGroup(of: Void.self) { downloadsGroup in
                for _ in 0..<downloads {
                    downloadsGroup.addTask {
                        do {
                            let moved = try await storage.downloadFile("big", context: "", to: sink)
                            outcome.bytes.add(moved, ordering: .relaxed)
                        } catch {
                            outcome.failure.withLock { $0 = "\(error)" }
                        }
                    }
                }
            }
            outcome.done.store(true, ordering: .relaxed)
        }
    }
    finished.wait()
    if let failure = outcome.failure.withLock({ $0 }) { fail("a download failed: \(failure)") }
    print(
        "bytes=\(outcome.bytes.load(ordering: .relaxed)) worst_us=\(outcome.worstMicroseconds.load(ordering: .relaxed)) threads=\(ProcessInfo.processInfo.activeProcessorCount)"
    )
}
