#if Benchmark
import Glibc

/// Nanoseconds on CLOCK_MONOTONIC: immune to wall-clock steps, the clock every timing uses.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// The median of `values` (the mean of the two middle values for an even count); 0 if empty.
func medianOf(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// A median with its distribution-free confidence interval.
///
/// The interval is the one of the sign test: between the k-th smallest and the k-th largest of
/// n values, with k the largest rank such that a Binomial(n, 1/2) variable falls below k with
/// probability at most (1 − confidence)/2. It assumes only that the values are independent
/// draws from one distribution (no normality, no equal variances), and outliers (a round that
/// hit another process's build) move it by one rank at most. With n < 6 no such interval
/// reaches 95%, and the interval is then the whole range, flagged by `reachesConfidence`.
struct MedianInterval: Codable, Sendable {
    let median: Double
    let lower: Double
    let upper: Double
    /// The coverage the chosen ranks actually guarantee (at least `confidence` when reached).
    let coverage: Double
    let count: Int

    /// An interval given directly (a transformed one, say).
    init(median: Double, lower: Double, upper: Double, coverage: Double, count: Int) {
        self.median = median
        self.lower = lower
        self.upper = upper
        self.coverage = coverage
        self.count = count
    }

    init(_ values: [Double], confidence: Double = 0.95) {
        let sorted = values.sorted()
        count = sorted.count
        median = medianOf(sorted)
        guard let first = sorted.first, let last = sorted.last else {
            lower = 0; upper = 0; coverage = 0
            return
        }
        let rank = MedianInterval.rank(count: sorted.count, confidence: confidence)
        if let rank {
            lower = sorted[rank.k - 1]
            upper = sorted[sorted.count - rank.k]
            coverage = rank.coverage
        } else {
            lower = first
            upper = last
            coverage = 1 - 2 * pow(0.5, Double(sorted.count))
        }
    }

    var reachesConfidence: Bool { MedianInterval.rank(count: count, confidence: 0.95) != nil }

    /// How far the interval reaches from the median, relative to it: max(upper/median − 1,
    /// 1 − lower/median). 0.05 means "within ±5%".
    var relativeHalfWidth: Double {
        guard median > 0 else { return .infinity }
        return max(upper / median - 1, 1 - lower / median)
    }

    /// The largest k with P(Binomial(n, 1/2) < k) ≤ (1 − confidence)/2, and the coverage
    /// 1 − 2·P(X < k) it gives; nil when even k = 1 (the extremes) falls short.
    static func rank(count n: Int, confidence: Double) -> (k: Int, coverage: Double)? {
        guard n > 0 else { return nil }
        let tail = (1 - confidence) / 2
        // Cumulative P(X ≤ i), built from the probability mass term by term (no factorials).
        var mass = pow(0.5, Double(n))
        var below = 0.0  // P(X < k) for k = i + 1 after each step
        var best: (k: Int, coverage: Double)?
        for i in 0..<n {
            below += mass
            // P(X < i + 1) = P(X ≤ i)
            if below <= tail {
                best = (i + 1, 1 - 2 * below)
            } else {
                break
            }
            mass *= Double(n - i) / Double(i + 1)
        }
        return best
    }
}

/// SplitMix64: a small, seeded generator, so that the same seed gives the same round orders.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
#endif
