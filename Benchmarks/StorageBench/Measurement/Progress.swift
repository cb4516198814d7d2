#if Benchmark
import Foundation
import Glibc

/// Progress on standard error while the benchmark runs: which workload, which round, which
/// contender, the widest interval so far, and the elapsed time. On a terminal one status line is redrawn in place and
/// each finished workload leaves a one-line summary; otherwise (CI logs) only the per-workload
/// lines are printed.
final class Progress {
    private let interactive = isatty(STDERR_FILENO) == 1
    private let started = monotonicNanoseconds()
    private var prefix = ""
    private var lastDraw: UInt64 = 0
    private var widest = ""

    private var elapsed: String {
        formatDuration(Double(monotonicNanoseconds() - started) / 1e9)
    }

    /// Prints a free-form line (plan summary, warnings).
    func note(_ text: String) {
        clearLine()
        emit(text + "\n")
    }

    func begin(index: Int, total: Int, label: String) {
        let width = String(total).count
        let number = String(index + 1)
        prefix = "[\(String(repeating: " ", count: width - number.count))\(number)/\(total)] \(label)"
        draw("\(prefix) — setting up", force: true)
    }

    func step(_ phase: String, _ kind: ContenderKind) {
        draw("\(prefix) — \(phase), \(kind.title)\(widest)", force: false)
    }

    /// The widest shown interval after the latest round, as "±4.1%".
    func precision(_ relativeHalfWidth: Double) {
        widest = relativeHalfWidth.isFinite ? String(format: " (±%.1f%%)", relativeHalfWidth * 100) : ""
    }

    func finish(_ result: WorkloadResult) {
        clearLine()
        var line = "\(prefix): "
        if let engine = result.contender(.engine) {
            line += "\(formatValue(engine.value.median)) \(result.metric.rawValue)"
        }
        for ratio in result.shownRatios {
            line +=
                ", \(formatRatio(ratio.estimate.median)) \(ratio.pair.label) "
                + "[\(formatRatio(ratio.estimate.lower))–\(formatRatio(ratio.estimate.upper))]"
        }
        line += String(format: "  (%d rounds, %.1f s, total %@)\n", result.rounds, result.elapsedSeconds, elapsed)
        emit(line)
        widest = ""
    }

    func fail(_ label: String, _ error: any Error) {
        clearLine()
        emit("\(prefix): FAILED — \(error)\n")
    }

    private func draw(_ text: String, force: Bool) {
        guard interactive else { return }
        let now = monotonicNanoseconds()
        // Redraw at most 20 times a second: progress must not cost measurable time.
        guard force || now - lastDraw > 50_000_000 else { return }
        lastDraw = now
        emit("\r\u{1B}[K\(text)  [\(elapsed)]")
    }

    private func clearLine() {
        if interactive { emit("\r\u{1B}[K") }
    }

    private func emit(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
#endif
