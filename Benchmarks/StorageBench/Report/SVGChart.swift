#if Benchmark
import Foundation

/// `--svg FILE`: a self-contained chart (hand-written SVG, no scripts, no external fonts or
/// styles) of the ratios the table marks with »: one bar per ratio, from 1× (equal speed) out to
/// the median, on a log scale so that 2× and 0.5× are the same length; a whisker for the 95%
/// interval; a tick for the target; the bar's colour for the verdict.
enum SVGChart {
    private static let width = 1000.0
    private static let labelRight = 400.0
    private static let plotLeft = 415.0
    private static let plotRight = 900.0
    private static let barHeight = 12.0
    private static let rowGap = 6.0
    private static let sectionHeight = 24.0
    private static let top = 112.0
    /// The axis: 1/4× to 4× (log2 of ±2); longer bars are clipped, their label gives the value.
    private static let axisLimit = 2.0

    private static let colors: [Verdict?: (fill: String, label: String)] = [
        .met: ("#16a34a", "target met"), .missed: ("#dc2626", "target missed"),
        .inconclusive: ("#f59e0b", "inconclusive"), nil: ("#2563eb", "no target"),
    ]

    static func render(_ report: BenchReport) -> String {
        func x(_ ratio: Double) -> Double {
            let position = min(max(log2(max(ratio, 1e-9)), -axisLimit), axisLimit)
            return plotLeft + (plotRight - plotLeft) * (position + axisLimit) / (2 * axisLimit)
        }
        var body = ""
        var y = top
        for group in WorkloadGroup.allCases {
            let rows = report.results.filter {
                $0.group == group && $0.error == nil && !($0.shownRatios.isEmpty && $0.bounds.isEmpty)
            }
            guard !rows.isEmpty else { continue }
            body += text(group.title, x: 12, y: y + 15, size: 13, weight: "bold")
            y += sectionHeight
            for row in rows {
                for ratio in row.shownRatios {
                    let target = row.targets.first { $0.target.pair == ratio.pair }
                    let color = colors[target?.verdict] ?? colors[nil] ?? ("#2563eb", "")
                    let estimate = ratio.estimate
                    body += text(
                        "\(row.label), \(ratio.pair.label)", x: labelRight, y: y + barHeight - 2, size: 11,
                        anchor: "end")
                    let start = x(1), end = x(estimate.median)
                    body +=
                        "<rect x=\"\(f(min(start, end)))\" y=\"\(f(y))\" width=\"\(f(max(1, abs(end - start))))\" "
                        + "height=\"\(f(barHeight))\" fill=\"\(color.fill)\" fill-opacity=\"0.8\"><title>"
                        + escape("\(row.label) \(ratio.pair.label): \(TextReport.formatEstimate(estimate))")
                        + "</title></rect>\n"
                    // The 95% interval.
                    let middle = y + barHeight / 2
                    body +=
                        "<line x1=\"\(f(x(estimate.lower)))\" y1=\"\(f(middle))\" x2=\"\(f(x(estimate.upper)))\" "
                        + "y2=\"\(f(middle))\" stroke=\"#0f172a\" stroke-width=\"1.5\"/>\n"
                    for bound in [estimate.lower, estimate.upper] {
                        body +=
                            "<line x1=\"\(f(x(bound)))\" y1=\"\(f(middle - 4))\" x2=\"\(f(x(bound)))\" "
                            + "y2=\"\(f(middle + 4))\" stroke=\"#0f172a\" stroke-width=\"1.5\"/>\n"
                    }
                    if let target {
                        let tick = x(target.target.minimum)
                        body +=
                            "<line x1=\"\(f(tick))\" y1=\"\(f(y - 3))\" x2=\"\(f(tick))\" y2=\"\(f(y + barHeight + 3))\" "
                            + "stroke=\"#7c3aed\" stroke-width=\"2.5\"><title>target "
                            + escape(target.description) + "</title></line>\n"
                    }
                    let tickX = target.map { x($0.target.minimum) } ?? start
                    let valueX = max(x(estimate.upper), end, start, tickX) + 6
                    body += text(
                        TextReport.formatEstimate(estimate), x: min(valueX, plotRight + 4), y: y + barHeight - 2,
                        size: 10, color: "#334155")
                    y += barHeight + rowGap
                }
                // Absolute targets: the bound over the median (right of 1×: within the bound).
                for bound in row.bounds {
                    guard let headroom = bound.headroom else { continue }
                    let color = colors[bound.verdict] ?? colors[nil] ?? ("#2563eb", "")
                    let label = "\(row.label), \(bound.bound.kind.title) \(bound.description)"
                    body += text(label, x: labelRight, y: y + barHeight - 2, size: 11, anchor: "end")
                    let start = x(1), end = x(headroom.median)
                    body +=
                        "<rect x=\"\(f(min(start, end)))\" y=\"\(f(y))\" width=\"\(f(max(1, abs(end - start))))\" "
                        + "height=\"\(f(barHeight))\" fill=\"\(color.fill)\" fill-opacity=\"0.8\"><title>"
                        + escape("\(label): bound ÷ median \(TextReport.formatEstimate(headroom))") + "</title></rect>\n"
                    let middle = y + barHeight / 2
                    body +=
                        "<line x1=\"\(f(x(headroom.lower)))\" y1=\"\(f(middle))\" x2=\"\(f(x(headroom.upper)))\" "
                        + "y2=\"\(f(middle))\" stroke=\"#0f172a\" stroke-width=\"1.5\"/>\n"
                    body +=
                        "<line x1=\"\(f(start))\" y1=\"\(f(y - 3))\" x2=\"\(f(start))\" y2=\"\(f(y + barHeight + 3))\" "
                        + "stroke=\"#7c3aed\" stroke-width=\"2.5\"><title>target "
                        + escape(bound.description) + "</title></line>\n"
                    let valueX = max(x(headroom.upper), end, start) + 6
                    body += text(
                        TextReport.formatEstimate(headroom), x: min(valueX, plotRight + 4), y: y + barHeight - 2,
                        size: 10, color: "#334155")
                    y += barHeight + rowGap
                }
            }
            y += 4
        }
        let height = y + 36

        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
            + "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        svg += text(
            "LocalStorage's speed against each baseline (right of 1×: LocalStorage faster)", x: 12, y: 24, size: 17,
            weight: "bold")
        svg += text(
            "\(report.date.prefix(10)) · commit \(report.git.summary) · \(report.machine.summary)", x: 12, y: 44,
            size: 11, color: "#475569")
        svg += text(
            "Bars: median of per-round ratios (log scale); whiskers: 95% interval; purple tick: target. "
                + "Colour: the target's verdict. Time targets: the bound ÷ the median (right of 1×: within it).",
            x: 12, y: 60, size: 11, color: "#475569")
        var legendX = 12.0
        for verdict in [Verdict.met, .missed, .inconclusive, nil] {
            guard let entry = colors[verdict] else { continue }
            svg += "<rect x=\"\(f(legendX))\" y=\"70\" width=\"12\" height=\"12\" fill=\"\(entry.fill)\"/>\n"
            svg += text(entry.label, x: legendX + 17, y: 80, size: 12)
            legendX += 30 + Double(entry.label.count) * 6.5
        }
        // Axis and grid: powers of two, the 1× line emphasized.
        for exponent in stride(from: -axisLimit, through: axisLimit, by: 1) {
            let ratio = pow(2, exponent), position = x(ratio)
            let emphasis = exponent == 0
            svg +=
                "<line x1=\"\(f(position))\" y1=\"\(f(top - 6))\" x2=\"\(f(position))\" y2=\"\(f(height - 30))\" "
                + "stroke=\"\(emphasis ? "#0f172a" : "#e2e8f0")\" stroke-width=\"\(emphasis ? 1.5 : 1)\"/>\n"
            let label = ratio >= 1 ? "\(Int(ratio))×" : "1/\(Int(1 / ratio))×"
            svg += text(label, x: position, y: top - 10, size: 10, anchor: "middle", color: "#475569")
            svg += text(label, x: position, y: height - 16, size: 10, anchor: "middle", color: "#475569")
        }
        svg += body
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
#endif
