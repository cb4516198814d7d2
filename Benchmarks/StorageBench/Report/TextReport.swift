import Foundation

/// The readable report printed at the end of a run: header, one table per workload family,
/// the notes, and every target marked met or missed.
enum TextReport {
    static func render(_ report: BenchReport) -> String {
        var out = "storage-bench — LocalStorage throughput\n"
        out += "date     \(humanDate(report.date)) · commit \(report.git.summary)\n"
        out += "machine  \(report.machine.summary)\n"
        out += "dir      \(report.directory) (scratch directory removed)\n"
        out += "run      \(formatDuration(report.elapsedSeconds)) · \(report.command.joined(separator: " "))\n"

        var table = TextTable(columns: [
            .init("workload", .left), .init("ops/rep", .right), .init("reps", .right),
            .init("LocalStorage median [min–max]", .left), .init("also", .right),
            .init("vs raw syscalls", .right), .init("vs Foundation", .right), .init("vs memcpy", .right),
            .init("targets", .left),
        ])
        for group in WorkloadGroup.allCases {
            let rows = report.results.filter { $0.group == group }
            guard !rows.isEmpty else { continue }
            table.section(group.title)
            for result in rows { table.row(cells(result)) }
        }
        out += "\n" + table.render() + "\n"

        let notes = Array(Set(report.results.flatMap(\.notes))).sorted()
        out += "\nHow it was measured\n"
        for line in report.methodology + notes { out += wrap("- " + line, width: 110, indent: "  ") }

        out += "\nTargets: \(report.targetsMet) met, \(report.targetsMissed) missed\n"
        for result in report.results {
            for target in result.targets {
                let ratio = target.ratio.map { formatRatio($0, near: target.target.minimum) } ?? "—"
                let status = target.met ? "met   " : "MISSED"
                let noise = result.isNoisy ? "  (noisy)" : ""
                out += "  \(status)  \(pad(result.label, 36))  \(pad(target.description, 22))  \(ratio)\(noise)\n"
            }
        }
        if !report.failedWorkloads.isEmpty {
            out += "\nFailed workloads:\n"
            for result in report.results where result.error != nil {
                out += "  \(result.label): \(result.error ?? "")\n"
            }
        }
        return out
    }

    private static func cells(_ result: WorkloadResult) -> [String] {
        guard result.error == nil, let engine = result.contender(.engine) else {
            return [result.label, "", "", "FAILED: \(result.error ?? "no engine result")", "", "", "", "", ""]
        }
        let summary = engine.summary(result.metric)
        let headline = "\(formatRate(summary.median)) \(result.metric.rawValue) "
            + "[\(formatRate(summary.min))–\(formatRate(summary.max))]"
        var also = ""
        switch result.metric {
        case .megabytesPerSecond: also = "\(formatRate(engine.operationsPerSecondSummary.median)) ops/s"
        case .operationsPerSecond:
            if let mb = engine.megabytesPerSecondSummary { also = "\(formatRate(mb.median)) MB/s" }
        }
        func versus(_ kind: ContenderKind) -> String {
            guard let ratio = result.ratio(kind), let baseline = result.contender(kind) else { return "—" }
            let threshold = result.targets.first { $0.target.baseline == kind }?.target.minimum
            return "\(formatRatio(ratio, near: threshold)) of \(formatRate(baseline.summary(result.metric).median))"
        }
        let missed = result.targets.filter { !$0.met }.map(\.description)
        var targets = result.targets.isEmpty ? "" : missed.isEmpty ? "met" : "MISSED " + missed.joined(separator: ", ")
        if result.isNoisy { targets += targets.isEmpty ? "(noisy)" : " (noisy)" }
        return [
            result.label, result.operationsPerRepetition.grouped, String(result.repetitions), headline, also,
            versus(.raw), versus(.foundation), versus(.memcpy), targets,
        ]
    }

    /// "2026-11-25T04:10:00Z" → "2026-11-25 04:10 UTC".
    private static func humanDate(_ iso: String) -> String {
        guard iso.count >= 16 else { return iso }
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func wrap(_ text: String, width: Int, indent: String) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            line += (line.isEmpty || line == indent ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { $0 + "\n" }.joined()
    }
}

/// A plain-text table with aligned columns and section titles.
struct TextTable {
    struct Column {
        enum Alignment { case left, right }
        let title: String
        let alignment: Alignment
        init(_ title: String, _ alignment: Alignment) {
            self.title = title
            self.alignment = alignment
        }
    }

    private enum Line {
        case section(String)
        case cells([String])
    }

    let columns: [Column]
    private var lines: [Line] = []

    init(columns: [Column]) { self.columns = columns }

    mutating func section(_ title: String) { lines.append(.section(title)) }
    mutating func row(_ cells: [String]) { lines.append(.cells(cells)) }

    func render() -> String {
        var widths = columns.map(\.title.count)
        for case .cells(let cells) in lines {
            for (index, cell) in cells.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func format(_ cells: [String]) -> String {
            columns.indices.map { index in
                let cell = index < cells.count ? cells[index] : ""
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return columns[index].alignment == .left ? cell + padding : padding + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = format(columns.map(\.title)) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for line in lines {
            switch line {
            case .section(let title): out += "\(title)\n"
            case .cells(let cells): out += format(cells) + "\n"
            }
        }
        return out
    }
}
