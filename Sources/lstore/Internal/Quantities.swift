// Sizes and ages as people write them: `10G`, `512MiB`, `1.5GB`, `30d`, `12h`, `1h30m`.
// Parsed exactly in integers (a fraction is scaled, never rounded through a Double).

/// Why a size or age did not parse: a one-line message naming the text and what was expected.
struct QuantityError: Error, Equatable, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A number of bytes.
///
/// A bare number is bytes. K, M, G, T, P (or Ki, Mi, ..., KiB, MiB, ...) are powers of 1024, as
/// in `du` and `sort -h`; KB, MB, GB, TB, PB are powers of 1000, as disk makers count. Letters
/// are case-insensitive (`10g`, `10gib`), a space may separate the number from the unit, and a
/// fraction is allowed (`1.5G`: fractions of a byte are dropped).
struct ByteSize: Equatable, Sendable, CustomStringConvertible {
    let bytes: Int64

    init(bytes: Int64) { self.bytes = bytes }

    init(parsing text: String) throws(QuantityError) {
        let (number, unit) = try splitQuantity(text, what: "size")
        let multiplier: UInt64
        switch unit.lowercased() {
        case "", "b": multiplier = 1
        case "k", "ki", "kib": multiplier = 1 << 10
        case "m", "mi", "mib": multiplier = 1 << 20
        case "g", "gi", "gib": multiplier = 1 << 30
        case "t", "ti", "tib": multiplier = 1 << 40
        case "p", "pi", "pib": multiplier = 1 << 50
        case "kb": multiplier = 1_000
        case "mb": multiplier = 1_000_000
        case "gb": multiplier = 1_000_000_000
        case "tb": multiplier = 1_000_000_000_000
        case "pb": multiplier = 1_000_000_000_000_000
        default:
            throw QuantityError(
                message: "invalid size '\(text)': unknown unit '\(unit)' (use B, K, M, G, T, P; KiB, MiB, ... for powers "
                    + "of 1024; KB, MB, ... for powers of 1000)")
        }
        guard let bytes = number.scaled(by: multiplier) else {
            throw QuantityError(message: "invalid size '\(text)': too large")
        }
        self.bytes = bytes
    }

    var description: String { formatBytes(bytes) }
}

/// A span of time, for `--max-age` and `--timeout`.
///
/// One or more numbers with units: ms, s, m (minutes), h, d, w, with long forms (`sec`,
/// `min`, `hours`, `days`, `weeks`); a bare number is seconds. Fractions are allowed (`1.5h`)
/// and parts add up (`1h30m`, `1d 12h`).
struct Age: Equatable, Sendable, CustomStringConvertible {
    let nanoseconds: Int64

    init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    init(parsing text: String) throws(QuantityError) {
        var rest = Substring(text)
        var total: Int64 = 0
        var parts = 0
        while !rest.allSatisfy(\.isWhitespace) {
            let (number, unit, remainder) = try takeQuantity(rest, whole: text, what: "age")
            let unitNanoseconds: UInt64
            switch unit.lowercased() {
            case "ms", "msec", "millisecond", "milliseconds": unitNanoseconds = 1_000_000
            case "", "s", "sec", "secs", "second", "seconds": unitNanoseconds = 1_000_000_000
            case "m", "min", "mins", "minute", "minutes": unitNanoseconds = 60 * 1_000_000_000
            case "h", "hr", "hrs", "hour", "hours": unitNanoseconds = 3_600 * 1_000_000_000
            case "d", "day", "days": unitNanoseconds = 86_400 * 1_000_000_000
            case "w", "week", "weeks": unitNanoseconds = 7 * 86_400 * 1_000_000_000
            default:
                throw QuantityError(
                    message: "invalid age '\(text)': unknown unit '\(unit)' (use ms, s, m, h, d or w, e.g. 30d, 12h, 90m, 1h30m)")
            }
            if unit.isEmpty && parts > 0 || unit.isEmpty && !remainder.allSatisfy(\.isWhitespace) {
                throw QuantityError(message: "invalid age '\(text)': every part needs a unit (e.g. 1h30m)")
            }
            guard let part = number.scaled(by: unitNanoseconds) else {
                throw QuantityError(message: "invalid age '\(text)': too long")
            }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { throw QuantityError(message: "invalid age '\(text)': too long") }
            total = sum
            parts += 1
            rest = remainder
        }
        guard parts > 0 else { throw QuantityError(message: "invalid age '\(text)': expected a number with a unit, e.g. 30d") }
        nanoseconds = total
    }

    var duration: Duration { .nanoseconds(nanoseconds) }

    var description: String { formatAge(nanoseconds) }
}

/// A non-negative decimal number: its integer digits and its fraction's digits.
struct DecimalNumber {
    var integer: UInt64
    /// The fraction's digits as an integer (at most 18 digits are kept), and their count.
    var fraction: UInt64
    var fractionDigits: Int

    /// `self × multiplier`, the fraction's part truncated, or nil if it does not fit in Int64.
    func scaled(by multiplier: UInt64) -> Int64? {
        let (whole, overflow) = integer.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        var part: UInt64 = 0
        if fractionDigits > 0 {
            var divisor: UInt64 = 1
            for _ in 0..<fractionDigits { divisor *= 10 }
            // fraction < divisor, so the quotient is below multiplier: it cannot overflow.
            part = divisor.dividingFullWidth(fraction.multipliedFullWidth(by: multiplier)).quotient
        }
        let (sum, overflowSum) = whole.addingReportingOverflow(part)
        guard !overflowSum, sum <= UInt64(Int64.max) else { return nil }
        return Int64(sum)
    }
}

/// Splits "1.5 GiB" into its number and its unit; the whole text must be one quantity.
private func splitQuantity(_ text: String, what: String) throws(QuantityError) -> (DecimalNumber, String) {
    let (number, unit, rest) = try takeQuantity(Substring(text), whole: text, what: what)
    guard rest.allSatisfy(\.isWhitespace) else {
        throw QuantityError(message: "invalid \(what) '\(text)': unexpected '\(rest.trimmingWhitespace())'")
    }
    return (number, unit)
}

/// Reads one number and the letters after it from the start of `text` (spaces around either
/// are skipped), returning what follows.
private func takeQuantity(
    _ text: Substring, whole: String, what: String
) throws(QuantityError) -> (DecimalNumber, String, Substring) {
    var rest = text.drop(while: \.isWhitespace)
    var number = DecimalNumber(integer: 0, fraction: 0, fractionDigits: 0)
    var digits = 0
    var inFraction = false
    while let character = rest.first {
        if character == "." && !inFraction {
            inFraction = true
        } else if let digit = character.wholeNumberValue, character.isASCII {
            digits += 1
            if inFraction {
                if number.fractionDigits < 18 {
                    number.fraction = number.fraction * 10 + UInt64(digit)
                    number.fractionDigits += 1
                }
            } else {
                let (times, overflow1) = number.integer.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(UInt64(digit))
                guard !overflow1 && !overflow2 else { throw QuantityError(message: "invalid \(what) '\(whole)': too large") }
                number.integer = plus
            }
        } else {
            break
        }
        rest = rest.dropFirst()
    }
    guard digits > 0 else {
        let shown = whole.trimmingWhitespace().isEmpty ? "an empty value" : "'\(whole)'"
        throw QuantityError(message: "invalid \(what) \(shown): expected a number first, e.g. " + (what == "size" ? "10G" : "30d"))
    }
    rest = rest.drop(while: \.isWhitespace)
    let unit = rest.prefix(while: { $0.isLetter && $0.isASCII })
    rest = rest.dropFirst(unit.count)
    return (number, String(unit), rest)
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// "512 B", "1.5 KiB", "10.0 GiB": one decimal from KiB up.
func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes)
    var index = 0
    while abs(value) >= 1024 && index < units.count - 1 {
        value /= 1024
        index += 1
    }
    if index == 0 { return "\(bytes) B" }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10)) \(units[index])"
}

/// "500ms", "45s", "1h30m", "30d": the largest units, exact to the millisecond.
func formatAge(_ nanoseconds: Int64) -> String {
    if nanoseconds < 1_000_000_000 { return "\(nanoseconds / 1_000_000)ms" }
    var seconds = nanoseconds / 1_000_000_000
    let milliseconds = (nanoseconds % 1_000_000_000) / 1_000_000
    var text = ""
    for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where seconds >= size {
        text += "\(seconds / size)\(unit)"
        seconds %= size
    }
    if seconds > 0 || milliseconds > 0 || text.isEmpty {
        text += milliseconds > 0 ? "\(seconds).\(String(1000 + milliseconds).dropFirst())s" : "\(seconds)s"
    }
    return text
}
