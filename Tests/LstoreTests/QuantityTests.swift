// Sizes and ages as people write them, and the text lstore shows for them. These run in process
// (the parsers do not need the CLI trait).
import Testing

@testable import lstore

@Suite struct QuantityTests {
    static let sizes: [(String, Int64)] = [
        ("0", Int64(0)), ("4096", 4096), ("10B", 10), ("1k", 1024), ("1K", 1024), ("10G", 10 << 30),
        ("10g", 10 << 30), ("512MiB", 512 << 20), ("512mib", 512 << 20), ("2Ti", 2 << 40), ("1P", 1 << 50),
        ("1.5GB", 1_500_000_000), ("1.5G", 3 << 29), ("1KB", 1000), ("3MB", 3_000_000), ("10 GiB", 10 << 30),
        (" 7M ", 7 << 20), ("0.5K", 512), ("1.0001K", 1024), (".5M", 1 << 19), ("2.", 2),
        ("8PiB", 8 << 50),
    ]

    static let ages: [(String, Int64)] = [
        ("30d", Int64(30 * 86_400) * 1_000_000_000), ("12h", Int64(12 * 3_600) * 1_000_000_000),
        ("90m", Int64(90 * 60) * 1_000_000_000), ("45s", 45_000_000_000), ("45", 45_000_000_000),
        ("500ms", 500_000_000), ("1h30m", Int64(5_400) * 1_000_000_000), ("1d 12h", Int64(129_600) * 1_000_000_000),
        ("1.5h", Int64(5_400) * 1_000_000_000), ("2w", Int64(14 * 86_400) * 1_000_000_000), ("0", 0), ("0s", 0),
        ("3 days", Int64(3 * 86_400) * 1_000_000_000), ("10MIN", Int64(600) * 1_000_000_000), ("0.25s", 250_000_000),
    ]

    @Test(arguments: sizes)
    func sizesParse(_ text: String, _ bytes: Int64) throws {
        #expect(try ByteSize(parsing: text).bytes == bytes, "\(text)")
    }

    @Test(arguments: ["", " ", "G", "-1G", "10X", "10 G B", "1.2.3G", "10GG", "1e3", "10G5", "9999999P", "99999999999999999999"])
    func badSizesAreRefusedWithTheirText(_ text: String) {
        do throws(QuantityError) {
            let size = try ByteSize(parsing: text)
            Issue.record("'\(text)' parsed as \(size.bytes)")
        } catch {
            #expect(error.message.hasPrefix("invalid size"), "\(error.message)")
            if !text.trimmingWhitespace().isEmpty { #expect(error.message.contains(text), "\(error.message)") }
        }
    }

    @Test(arguments: ages)
    func agesParse(_ text: String, _ nanoseconds: Int64) throws {
        let age = try Age(parsing: text)
        #expect(age.nanoseconds == nanoseconds, "\(text)")
        #expect(age.duration == .nanoseconds(nanoseconds))
    }

    @Test(arguments: ["", "d", "-5s", "5x", "1h30", "30 30m", "1.5.2h", "99999999999w", "5s junk"])
    func badAgesAreRefusedWithTheirText(_ text: String) {
        do throws(QuantityError) {
            let age = try Age(parsing: text)
            Issue.record("'\(text)' parsed as \(age.nanoseconds) ns")
        } catch {
            #expect(error.message.hasPrefix("invalid age"), "\(error.message)")
        }
    }

    @Test func sizesAndAgesPrintAsPeopleReadThem() {
        #expect(formatBytes(0) == "0 B")
        #expect(formatBytes(1023) == "1023 B")
        #expect(formatBytes(1536) == "1.5 KiB")
        #expect(formatBytes(10 << 30) == "10.0 GiB")
        #expect(formatAge(500_000_000) == "500ms")
        #expect(formatAge(45_000_000_000) == "45s")
        #expect(formatAge(5_400_000_000_000) == "1h30m")
        #expect(formatAge(30 * 86_400 * 1_000_000_000) == "30d")
        #expect(formatAge(1_250_000_000) == "1.250s")
    }

    @Test func transferLinesFitTheTerminal() {
        for width in [20, 40, 80, 200] {
            for done in [Int64(0), 1 << 29, 1 << 30] {
                let line = transferLine(label: "put c/name", done: done, total: 1 << 30, elapsed: 2, width: width)
                if width >= 80 { #expect(line.count < width, "\(line)") }
                #expect(line.contains("%"))
            }
        }
        let half = transferLine(label: "get x", done: 1 << 29, total: 1 << 30, elapsed: 1, width: 100)
        #expect(half.contains(" 50%") && half.contains("512.0 MiB / 1.0 GiB") && half.contains("512.0 MiB/s"))
        #expect(half.contains("[====================>                   ]"))
        let unknown = transferLine(label: "put x", done: 3 << 20, total: nil, elapsed: 1, width: 80)
        #expect(unknown == "put x  3.0 MiB  3.0 MiB/s")
        #expect(scanLine(label: "scanning", files: 1, bytes: nil, elapsed: 2.5) == "scanning  1 file  (2s)")
    }
}
