#if Benchmark
import Foundation
import Glibc

/// The worker processes of one run of a process row, started together and released at once.
///
/// Every worker (a `storage-bench --child` process, or a python3 running `PythonCacheScript`)
/// prints one line per event on its standard output:
/// - `ready <index>` once it is set up (interpreter started, storage or cache opened);
/// - then it waits for a line on its standard input, the release;
/// - `computing <index> <ns>` when its computation starts (CLOCK_MONOTONIC, the clock
///   `monotonicNanoseconds` reads, the same in every process);
/// - `done <index> <computations> <ns>` when it has the value;
/// - `error <index> <message>` if it fails.
/// Nothing before the release is timed: process start and imports are not the row's subject.
final class ChildGroup {
    /// One line of one worker.
    struct Event {
        let worker: Int
        let kind: String
        /// The fields after the index.
        let fields: [String]

        /// The field at `position` as a CLOCK_MONOTONIC time.
        func time(_ position: Int) throws -> UInt64 {
            guard position < fields.count, let value = UInt64(fields[position]) else {
                throw BenchError("worker \(worker): malformed '\(kind)' line")
            }
            return value
        }
    }

    private var processes: [Process] = []
    private var inputs: [Pipe] = []
    private var readers: [LineReader] = []
    private var outputs: [Pipe] = []
    private let deadline: UInt64

    /// Starts `executable` once per argument list; everything must be over within
    /// `timeoutSeconds` (then the workers are killed and the run fails).
    init(executable: String, argumentLists: [[String]], timeoutSeconds: Double) throws {
        deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        do {
            for arguments in argumentLists {
                let process = Process()
                let input = Pipe(), output = Pipe()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.standardInput = input
                process.standardOutput = output
                process.standardError = FileHandle.nullDevice
                try process.run()
                processes.append(process)
                inputs.append(input)
                outputs.append(output)
                readers.append(LineReader(fd: output.fileHandleForReading.fileDescriptor))
            }
        } catch {
            stop()
            throw BenchError("cannot start a worker (\(executable)): \(error.localizedDescription)")
        }
    }

    deinit { stop() }

    var count: Int { processes.count }

    /// Waits until every worker printed `ready`.
    func awaitReady() throws {
        var ready = Set<Int>()
        while ready.count < count {
            let event = try next()
            guard event.kind == "ready" else { throw BenchError("worker \(event.worker): '\(event.kind)' before ready") }
            ready.insert(event.worker)
        }
    }

    /// Releases every worker; returns the time just before the first release.
    func release() throws -> UInt64 {
        let start = monotonicNanoseconds()
        for input in inputs { try input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8)) }
        return start
    }

    /// The next line any worker prints; throws on `error` lines, on a worker that exits without
    /// a line, and at the deadline.
    func next() throws -> Event {
        while true {
            for (worker, reader) in readers.enumerated() {
                guard let line = reader.bufferedLine() else { continue }
                let words = line.split(separator: " ").map(String.init)
                guard words.count >= 2, let index = Int(words[1]), index == worker else {
                    throw BenchError("worker \(worker): unexpected line '\(line)'")
                }
                if words[0] == "error" {
                    throw BenchError("worker \(worker) failed: \(words.dropFirst(2).joined(separator: " "))")
                }
                return Event(worker: worker, kind: words[0], fields: Array(words.dropFirst(2)))
            }
            let open = readers.filter { !$0.atEnd }
            guard !open.isEmpty else { throw BenchError("every worker exited before the expected line") }
            let now = monotonicNanoseconds()
            guard now < deadline else { throw BenchError("the workers did not finish in time") }
            var descriptors = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), CInt(min(1_000, (deadline - now) / 1_000_000 + 1)))
            if ready < 0 && errno != EINTR { throw BenchError("poll: \(errnoDescription(errno))") }
            for (reader, descriptor) in zip(open, descriptors) where descriptor.revents != 0 { try reader.fill() }
        }
    }

    /// SIGKILL for worker `index`; returns the time just before the signal was sent (the
    /// worker may die, and another take over, before kill(2) returns here).
    func kill(_ index: Int) -> UInt64 {
        let sent = monotonicNanoseconds()
        _ = Glibc.kill(processes[index].processIdentifier, SIGKILL)
        return sent
    }

    /// Kills the workers still running and waits for all of them.
    func stop() {
        for process in processes where process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        for input in inputs { try? input.fileHandleForWriting.close() }
        processes = []
        inputs = []
        readers = []
        outputs = []
    }
}
#endif
