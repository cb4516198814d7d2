#if Benchmark
import Foundation

/// `--json FILE`: the whole `BenchReport` — every repetition of every contender, the summaries,
/// ratios and targets, the machine, the git commit and the date.
enum JSONReport {
    static func write(_ report: BenchReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(report)
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
    }
}
#endif
