#if Benchmark
import Foundation

/// The report printed at the end of a run, at most 100 columns wide: a header, one table per
/// workload family with the contenders side by side, under each row its marked ratios (»), then
/// the legend, the method, and the targets that were not met.
enum TextReport {
    static let width = 100

    static func render(_ report: BenchReport) -> String {
        var out = "storage-bench: LocalStorage against raw syscalls, Foundation, NIOFileSystem and Python\n"
        out += header("date", "\(humanDate(report.date)) · commit \(report.git.summary)")
        out += header("machine", report.machine.summary)
        out += header(
            "run",
            "\(formatDuration(report.elapsedSeconds)) · peak memory \(formatBytes(report.peakResidentBytes)) · "
                + report.command.joined(separator: " "))
        let judged = report.targetsMet + report.targetsMissed + report.targetsInconclusive
        out += header(
            "targets",
            "\(report.targetsMet) met · \(report.targetsMissed) missed · \(report.targetsInconclusive) "
                + "inconclusive (of \(judged)) · misses leave the exit status at 0")
        out += "\n"
        out += wrap(
            "Cells: each contender's median over interleaved rounds, in µs or ms per operation (lower is "
                + "better) or GB/s (higher is better). » marks the ratio that matters: LocalStorage's speed ÷ a "
                + "baseline's (above 1×: LocalStorage faster), the median of the ratios taken within each round, "
                + "[its 95% interval]. When a loaded machine makes runs slow at random, the two medians of the "
                + "cells can disagree with that ratio; the ratio, which compares runs made moments apart, is the "
                + "one to trust. Target ≥x: met if the interval is at or above x, missed if below, inconclusive "
                + "if it straddles x.", indent: "")

        let labelWidth = max(12, report.results.map(\.label.count).max() ?? 0)
        for group in WorkloadGroup.allCases {
            let rows = report.results.filter { $0.group == group }
            guard !rows.isEmpty else { continue }
            out += "\n" + table(group, rows, labelWidth: labelWidth)
        }

        let kinds = ContenderKind.allCases.filter { kind in report.results.contains { $0.contender(kind) != nil } }
        out += "\nContenders\n"
        for kind in kinds { out += wrap("- " + kind.legend, indent: "  ") }
        let notes = Array(Set(report.results.flatMap(\.notes))).sorted()
        out += "\nHow it was measured\n"
        for line in report.methodology + notes { out += wrap("- " + line, indent: "  ") }
        if !report.omitted.isEmpty {
            out += "\nLeft out of this build\n"
            for line in report.omitted { out += wrap("- " + line, indent: "  ") }
        }

        let open = report.results.flatMap { result in
            result.targets.filter { $0.verdict != .met }.map { (result, $0) }
        }
        let openBounds = report.results.flatMap { result in
            result.bounds.filter { $0.verdict != .met }.map { (result, $0) }
        }
        if !open.isEmpty || !openBounds.isEmpty {
            out += "\nTargets not met in this run\n"
            for (result, target) in open {
                let ratio = target.estimate.map(formatEstimate) ?? "—"
                out += wrap(
                    "- \(target.verdict.rawValue): \(result.label), \(target.target.pair.label) \(ratio), "
                        + "target \(target.description) (\(target.target.source))", indent: "  ")
            }
            for (result, bound) in openBounds {
                let value = bound.estimate.map { formatValueEstimate($0) + " " + result.metric.rawValue } ?? "—"
                out += wrap(
                    "- \(bound.verdict.rawValue): \(result.label), \(bound.bound.kind.title) \(value), "
                        + "target \(bound.description) (\(bound.bound.source))", indent: "  ")
            }
        }
        if !report.failedWorkloads.isEmpty {
            out += "\nFailed workloads (the exit status is non-zero)\n"
            for result in report.results where result.error != nil {
                out += wrap("- \(result.label): \(result.error ?? "")", indent: "  ")
            }
        }
        return out
    }

    /// One family: a header line of contender titles, then per row a line of values and a line
    /// of marked ratios.
    private static func table(_ group: WorkloadGroup, _ rows: [WorkloadResult], labelWidth: Int) -> String {
        let kinds = ContenderKind.allCases.filter { kind in rows.contains { $0.contender(kind) != nil } }
        let cells: [[String]] = rows.map { row in
            kinds.map { kind in row.contender(kind).map { formatValue($0.value.median) } ?? "—" }
        }
        let widths = kinds.indices.map { column in
            max(kinds[column].title.count, cells.map { $0[column].count }.max() ?? 0, 6)
        }
        let unitWidth = 5
        func line(_ label: String, _ unit: String, _ values: [String]) -> String {
            var text = pad(label, labelWidth) + " " + pad(unit, unitWidth)
            for (value, width) in zip(values, widths) { text += "  " + leftPad(value, width) }
            return text.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        var out = group.title + "\n"
        out += line("", "", kinds.map(\.title))
        for (row, values) in zip(rows, cells) {
            if let error = row.error {
                out += row.label + "\n" + wrap("  FAILED: \(error)", indent: "    ")
                continue
            }
            out += line(row.label, row.metric.rawValue, values)
            var items = row.shownRatios.map { ratio -> String in
                var item = "\(ratio.pair.label) \(formatEstimate(ratio.estimate))"
                if let target = row.targets.first(where: { $0.target.pair == ratio.pair }) {
                    item +=
                        " ≥\(formatRatio(target.target.minimum)) "
                        + (target.verdict == .missed ? "MISSED" : target.verdict.rawValue)
                }
                return item
            }
            for bound in row.bounds {
                let value = bound.estimate.map(formatValueEstimate) ?? "—"
                items.append(
                    "\(bound.bound.kind.title) \(bound.description): \(value) "
                        + (bound.verdict == .missed ? "MISSED" : bound.verdict.rawValue))
            }
            for difference in row.differences {
                items.append("\(difference.label) \(formatDifference(difference.estimate)) µs/op")
            }
            items.append("\(row.rounds) rounds" + (row.stopReason == .precise ? "" : " (\(row.stopReason.rawValue))"))
            out += joinWrapped(items, first: "  » ", indent: "    ")
        }
        return out
    }

    /// "1.04× [1.01–1.07]".
    static func formatEstimate(_ estimate: MedianInterval) -> String {
        func bare(_ ratio: Double) -> String { formatRatio(ratio).replacingOccurrences(of: "×", with: "") }
        return "\(formatRatio(estimate.median)) [\(bare(estimate.lower))–\(bare(estimate.upper))]"
    }

    /// "+10.9 [10.2–11.6]": a signed median difference with its interval.
    static func formatDifference(_ estimate: MedianInterval) -> String {
        func signed(_ value: Double) -> String { (value < 0 ? "−" : "+") + formatValue(abs(value)) }
        return "\(signed(estimate.median)) [\(signed(estimate.lower))–\(signed(estimate.upper))]"
    }

    /// "1,043 [1,020–1,071]": a median value with its interval.
    static func formatValueEstimate(_ estimate: MedianInterval) -> String {
        "\(formatValue(estimate.median)) [\(formatValue(estimate.lower))–\(formatValue(estimate.upper))]"
    }

    /// Items joined by " · ", broken into lines of at most `width` columns.
    private static func joinWrapped(_ items: [String], first: String, indent: String) -> String {
        var lines: [String] = []
        var line = first
        for item in items {
            let separator = line == first || line == indent ? "" : " · "
            if line.count + separator.count + item.count > width && line != first && line != indent {
                lines.append(line)
                line = indent + item
            } else {
                line += separator + item
            }
        }
        lines.append(line)
        return lines.map { $0 + "\n" }.joined()
    }

    private static func header(_ key: String, _ value: String) -> String {
        wrap(pad(key, 8) + " " + value, indent: String(repeating: " ", count: 9))
    }

    /// "2026-11-25T04:10:00Z" → "2026-11-25 04:10 UTC".
    private static func humanDate(_ iso: String) -> String {
        guard iso.count >= 16 else { return iso }
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Words of `text` in lines of at most `width` columns; continuation lines start with
    /// `indent`. Leading and inner runs of spaces are kept.
    static func wrap(_ text: String, indent: String) -> String {
        let leading = String(text.prefix { $0 == " " })
        var lines: [String] = []
        var line = leading
        var hasWord = false
        for word in text.dropFirst(leading.count).split(separator: " ", omittingEmptySubsequences: false) {
            if hasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
                hasWord = false
            }
            line += (hasWord ? " " : "") + word
            hasWord = true
        }
        if hasWord { lines.append(line) }
        return lines.map { $0 + "\n" }.joined()
    }
}
#endif
