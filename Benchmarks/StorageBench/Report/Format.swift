#if Benchmark
import Foundation

/// "4 KiB", "1 MiB", "64 MiB", "1 GiB", "1.5 MiB", "1000 B".
func formatSize(_ bytes: Int) -> String {
    let units: [(Int, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
    for (scale, unit) in units where bytes >= scale {
        if bytes % scale == 0 { return "\(bytes / scale) \(unit)" }
        return String(format: "%.1f %@", Double(bytes) / Double(scale), unit)
    }
    return "\(bytes) B"
}

/// "4KiB", "1MiB": sizes in identifiers.
func sizeID(_ bytes: Int) -> String { formatSize(bytes).replacingOccurrences(of: " ", with: "") }

/// Parses "4096", "4K", "4KiB", "4KB", "1M", "64MiB", "1G", "1GiB" (all binary multiples).
func parseSize(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let digits = trimmed.prefix { $0.isNumber }
    guard let value = Int(digits), value > 0 else { return nil }
    let multipliers: [String: Int] = [
        "": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
        "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
    ]
    let suffix = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).uppercased()
    guard let multiplier = multipliers[suffix] else { return nil }
    let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : bytes
}

/// "0.97×", "12.4×", "310×".
func formatRatio(_ ratio: Double) -> String {
    guard ratio.isFinite else { return "—" }
    if ratio > 0 && ratio < 0.01 { return String(format: "%.1g×", ratio) }
    if ratio < 10 { return String(format: "%.2f×", ratio) }
    if ratio < 100 { return String(format: "%.1f×", ratio) }
    return String(format: "%.0f×", ratio)
}

/// A measured value with three significant digits and thousands separators: "1,234", "87.5",
/// "2.83", "0.912".
func formatValue(_ value: Double) -> String {
    guard value.isFinite else { return "—" }
    if value >= 1000 { return Int(value.rounded()).grouped }
    if value >= 100 { return String(format: "%.0f", value) }
    if value >= 10 { return String(format: "%.1f", value) }
    if value >= 1 { return String(format: "%.2f", value) }
    return String(format: "%.3f", value)
}

/// "41.2 s", "2 min 41 s".
func formatDuration(_ seconds: Double) -> String {
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let whole = Int(seconds.rounded())
    return "\(whole / 60) min \(whole % 60) s"
}

extension Int {
    /// "10,000": thousands separators, whatever the locale.
    var grouped: String {
        let digits = String(self.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return self < 0 ? "-" + result : result
    }
}
#endif
