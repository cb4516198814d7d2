import Foundation

/// `--svg FILE`: a self-contained bar chart (hand-written SVG, no scripts, no external fonts or
/// styles) of LocalStorage against its baselines, every row normalized to the raw-syscall loop
/// of the same run (= 1.0, the dashed line). Bars beyond the axis are clipped and labelled with
/// their value; a red tick on a LocalStorage bar marks that row's raw-syscall target.
enum SVGChart {
    private static let width = 1000.0
    private static let labelWidth = 330.0
    private static let plotLeft = 340.0
    private static let plotRight = 930.0
    private static let barHeight = 9.0
    private static let barGap = 2.0
    private static let rowGap = 9.0
    private static let sectionHeight = 26.0
    private static let top = 118.0

    private static let series: [(kind: ContenderKind, color: String)] = [
        (.engine, "#2563eb"), (.foundation, "#f59e0b"), (.memcpy, "#94a3b8"),
    ]

    static func render(_ report: BenchReport) -> String {
        let results = report.results.filter { $0.relativeToRaw(.engine) != nil }
        let values = results.flatMap { result in series.compactMap { result.relativeToRaw($0.kind) } }
        // Up to 2× shows every engine-vs-raw difference clearly; memcpy and slow baselines clip.
        let axisMax = (values.filter { $0 <= 2 }.max() ?? 1) <= 1.5 ? 1.5 : 2.0
        func x(_ ratio: Double) -> Double { plotLeft + (plotRight - plotLeft) * min(ratio, axisMax) / axisMax }

        var body = ""
        var y = top
        for group in WorkloadGroup.allCases {
            let rows = results.filter { $0.group == group }
            guard !rows.isEmpty else { continue }
            y += 6
            body += text(group.title, x: 12, y: y + 12, size: 13, weight: "bold")
            y += sectionHeight - 6
            for result in rows {
                let rowHeight = Double(series.count) * (barHeight + barGap)
                var label = result.label
                if let engine = result.contender(.engine) {
                    label += " — \(formatRate(engine.summary(result.metric).median)) \(result.metric.rawValue)"
                }
                if result.isNoisy { label = "(noisy) " + label }
                body += text(label, x: labelWidth, y: y + rowHeight / 2 + 4, size: 11, anchor: "end")
                for (slot, entry) in series.enumerated() {
                    guard let ratio = result.relativeToRaw(entry.kind) else { continue }
                    let barTop = y + Double(slot) * (barHeight + barGap)
                    let end = x(ratio)
                    body += "<rect x=\"\(f(plotLeft))\" y=\"\(f(barTop))\" width=\"\(f(max(1, end - plotLeft)))\" "
                        + "height=\"\(f(barHeight))\" fill=\"\(entry.color)\"><title>\(escape(entry.kind.title)): "
                        + "\(formatRatio(ratio)) of raw syscalls</title></rect>\n"
                    let clipped = ratio > axisMax
                    let valueText = (clipped ? "▸ " : "") + formatRatio(ratio)
                    body += text(
                        valueText, x: clipped ? end - 3 : end + 3, y: barTop + barHeight - 1, size: 9,
                        anchor: clipped ? "end" : "start", color: clipped ? "#ffffff" : "#334155")
                }
                if let target = result.targets.first(where: { $0.target.baseline == .raw }) {
                    let tick = x(target.target.minimum)
                    body += "<line x1=\"\(f(tick))\" y1=\"\(f(y - 1))\" x2=\"\(f(tick))\" y2=\"\(f(y + barHeight + 1))\" "
                        + "stroke=\"#dc2626\" stroke-width=\"2\"><title>target \(escape(target.description))"
                        + "</title></line>\n"
                }
                y += rowHeight + rowGap
            }
        }
        let height = y + 40

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
            + "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        svg += text(
            "LocalStorage throughput relative to raw syscalls (= 1.0) — higher is better", x: 12, y: 24, size: 17,
            weight: "bold")
        svg += text(
            "\(report.date.prefix(10)) · commit \(report.git.summary) · \(report.machine.summary)", x: 12, y: 44,
            size: 11, color: "#475569")
        svg += text(
            "Medians of alternating repetitions in one run; labels give LocalStorage's median rate. "
                + "Red tick: target vs raw syscalls. (noisy): repetitions disagree by more than 1.5×.", x: 12, y: 60,
            size: 11, color: "#475569")
        // Legend.
        var legendX = 12.0
        for entry in series {
            svg += "<rect x=\"\(f(legendX))\" y=\"72\" width=\"12\" height=\"12\" fill=\"\(entry.color)\"/>\n"
            svg += text(entry.kind.title, x: legendX + 17, y: 82, size: 12)
            legendX += 30 + Double(entry.kind.title.count) * 7
        }
        svg += "<line x1=\"\(f(legendX))\" y1=\"78\" x2=\"\(f(legendX + 22))\" y2=\"78\" stroke=\"#0f172a\" "
            + "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n"
        svg += text("raw syscalls = 1.0", x: legendX + 28, y: 82, size: 12)
        // Axis, grid, the 1.0 line.
        var tick = 0.0
        while tick <= axisMax + 1e-9 {
            let position = x(tick)
            svg += "<line x1=\"\(f(position))\" y1=\"\(f(top - 6))\" x2=\"\(f(position))\" y2=\"\(f(height - 34))\" "
                + "stroke=\"#e2e8f0\" stroke-width=\"1\"/>\n"
            svg += text(formatRatio(tick), x: position, y: top - 10, size: 10, anchor: "middle", color: "#475569")
            svg += text(formatRatio(tick), x: position, y: height - 20, size: 10, anchor: "middle", color: "#475569")
            tick += 0.25
        }
        svg += body
        svg += "<line x1=\"\(f(x(1)))\" y1=\"\(f(top - 6))\" x2=\"\(f(x(1)))\" y2=\"\(f(height - 34))\" "
            + "stroke=\"#0f172a\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n"
        svg += "</svg>\n"
        return svg
    }

    static func write(_ report: BenchReport, to path: String) throws {
        try Data(render(report).utf8).write(to: URL(fileURLWithPath: path))
    }

    private static func text(
        _ content: String, x: Double, y: Double, size: Int, anchor: String = "start", weight: String = "normal",
        color: String = "#0f172a"
    ) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" "
            + "font-weight=\"\(weight)\" fill=\"\(color)\">\(escape(content))</text>\n"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
