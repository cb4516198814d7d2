import Glibc

/// Nanoseconds on CLOCK_MONOTONIC: immune to wall-clock steps, the clock every timing uses.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// Median, minimum and maximum of a set of repetitions.
struct Summary: Codable, Sendable {
    let median: Double
    let min: Double
    let max: Double

    /// Summarizes `values`; the median of an even count is the mean of the two middle values.
    init(_ values: [Double]) {
        let sorted = values.sorted()
        guard let first = sorted.first, let last = sorted.last else {
            median = 0; min = 0; max = 0
            return
        }
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        min = first
        max = last
    }
}

/// The rates one contender achieved, one value per timed repetition.
struct Rates {
    /// Bytes per second / 10^6, or nil when the workload moves no file content.
    let megabytesPerSecond: [Double]?
    let operationsPerSecond: [Double]

    init(seconds: [Double], bytes: Int, operations: Int) {
        let safe = seconds.map { Swift.max($0, 1e-9) }
        megabytesPerSecond = bytes > 0 ? safe.map { Double(bytes) / $0 / 1e6 } : nil
        operationsPerSecond = safe.map { Double(operations) / $0 }
    }
}
