#if Benchmark
import Foundation

/// The Python baseline for listings: `os.listdir` (unsorted), the call a script would make.
///
/// Starting an interpreter takes tens of milliseconds, so one python3 process per round lists
/// the directory `listings` times and reports its own time (perf_counter_ns around the loop);
/// the runner records that time instead of the process's lifetime.
struct PythonBaseline {
    /// The interpreter found on PATH.
    let executable: String

    /// python3 from PATH, or nil when there is none (the rows then run without this contender).
    /// A launcher on PATH (pyenv's shim is a shell script) is resolved once to the interpreter
    /// it starts, so rounds do not wait for it.
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

    private static let script = """
        import os, sys, time
        directory, listings, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        start = time.perf_counter_ns()
        for _ in range(listings):
            names = os.listdir(directory)
        elapsed = time.perf_counter_ns() - start
        if len(names) != expected:
            sys.exit(f"os.listdir saw {len(names)} of {expected} names")
        print(elapsed)
        """

    /// Lists `directory` `listings` times in one python3 process; returns the seconds the
    /// listings took, as measured inside it.
    func list(directory: String, listings: Int, expected: Int) throws -> MeasuredSeconds {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", PythonBaseline.script, directory, String(listings), String(expected)]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, let nanoseconds = Double(text) else {
            let message = String(decoding: complaint, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw BenchError("python3 os.listdir failed (status \(process.terminationStatus)): \(message)")
        }
        return MeasuredSeconds(seconds: nanoseconds / 1e9)
    }
}
#endif
