#if Benchmark
import Foundation

/// The Python baseline for listings: `os.listdir` (unsorted), the call a script would make.
///
/// Starting an interpreter takes tens of milliseconds (far more on a loaded machine), so a row
/// starts one python3 process (`PythonLister`) and asks it for each round's listings over a
/// pipe; it times the listing loop itself (perf_counter_ns), and the runner records that time.
struct PythonBaseline {
    /// The interpreter found on PATH.
    let executable: String

    /// python3 from PATH, or nil when there is none (the rows then run without this contender).
    /// A launcher on PATH (pyenv's shim is a shell script) is resolved once to the interpreter
    /// it starts.
    static func find() -> PythonBaseline? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/python3"
            guard FileManager.default.isExecutableFile(atPath: candidate) else { continue }
            return PythonBaseline(executable: interpreter(of: candidate) ?? candidate)
        }
        return nil
    }

    /// `sys.executable` as `launcher` reports it, if it runs.
    private static func interpreter(of launcher: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = ["-c", "import sys; print(sys.executable)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return path
    }
}

/// One python3 process that lists one directory on request: each line it reads is a number of
/// listings; it answers with the nanoseconds they took, or a line starting with "error".
final class PythonLister {
    private static let script = """
        import os, sys, time
        directory, expected = sys.argv[1], int(sys.argv[2])
        for line in sys.stdin:
            listings = int(line)
            start = time.perf_counter_ns()
            for _ in range(listings):
                names = os.listdir(directory)
            elapsed = time.perf_counter_ns() - start
            if len(names) != expected:
                print(f"error: os.listdir saw {len(names)} of {expected} names", flush=True)
            else:
                print(elapsed, flush=True)
        """

    private let process = Process()
    private let requests = Pipe()
    private let answers = Pipe()
    private var pending = Data()

    init(_ python: PythonBaseline, directory: String, expected: Int) throws {
        process.executableURL = URL(fileURLWithPath: python.executable)
        process.arguments = ["-c", PythonLister.script, directory, String(expected)]
        process.standardInput = requests
        process.standardOutput = answers
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Lists the directory `listings` times; returns the time the listings took inside Python.
    func list(_ listings: Int) throws -> MeasuredSeconds {
        try requests.fileHandleForWriting.write(contentsOf: Data("\(listings)\n".utf8))
        let answer = try readLine()
        guard let nanoseconds = Double(answer) else { throw BenchError("python3: \(answer)") }
        return MeasuredSeconds(seconds: nanoseconds / 1e9)
    }

    /// Closes its input (it then exits) and waits for it.
    func stop() {
        try? requests.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func readLine() throws -> String {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<end], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...end)
                return line
            }
            // availableData blocks until Python writes or exits; empty means it exited.
            let chunk = answers.fileHandleForReading.availableData
            if chunk.isEmpty { throw BenchError("python3 exited without an answer") }
            pending.append(chunk)
        }
    }
}
#endif
