#if Benchmark
import Foundation
import Glibc
import LocalStorage

/// What a worker of a process row does: `storage-bench --child <this, as JSON>`. The runner
/// starts the benchmark's own executable again in this mode (see `ChildGroup` for the lines it
/// prints).
struct ChildJob: Codable, Sendable {
    /// The store root every worker of the run opens.
    var root: String
    var context: String
    /// The one key every worker asks for.
    var key: String
    /// How long the computation takes (it sleeps: the row measures coordination, not CPU).
    var computeSeconds: Double
    /// The worker's index, echoed in every line.
    var index: Int

    /// The argument of `--child`.
    func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }
}

/// The `--child` mode: one worker asking `cachedObject` for a key that is missing.
enum ChildMode {
    /// Runs the job described by `json`; returns the exit status.
    static func run(_ json: String) -> Int32 {
        let job: ChildJob
        do {
            job = try JSONDecoder().decode(ChildJob.self, from: Data(json.utf8))
        } catch {
            emit("error -1 --child: not a job: \(error)")
            return 2
        }
        do {
            try work(job)
            return 0
        } catch {
            emit("error \(job.index) \(String(describing: error).replacingOccurrences(of: "\n", with: " "))")
            return 1
        }
    }

    private static func work(_ job: ChildJob) throws {
        let storage = try LocalStorage(
            storagePath: job.root, durability: .noSync, removeOrphanedTempFiles: false)
        let computations = Counter()
        emit("ready \(job.index)")
        _ = readLine()
        let value = try storage.cachedObject(PipelineRecord.self, fileName: job.key, context: job.context) {
            computations.value += 1
            emit("computing \(job.index) \(monotonicNanoseconds())")
            sleepSeconds(job.computeSeconds)
            return PipelineRecord.make(1)
        }
        guard value == PipelineRecord.make(1) else { throw BenchError("cachedObject returned another value") }
        emit("done \(job.index) \(computations.value) \(monotonicNanoseconds())")
    }

    /// Counts computations (a class: the closure it is captured by runs on this thread only).
    private final class Counter {
        var value = 0
    }

    /// One line on standard output, in one write(2), so that lines are never interleaved.
    static func emit(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress.map { $0 + done }, bytes.count - done) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            done += written
        }
    }

    /// Sleeps `seconds`, resuming after signals.
    static func sleepSeconds(_ seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
#endif
