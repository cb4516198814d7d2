#if Benchmark
/// What one contender measured in one workload: every timed run, in round order.
struct ContenderResult: Codable, Sendable {
    let kind: ContenderKind
    let method: String
    /// Seconds of the warm-up run (not used in any result).
    let warmupSeconds: Double
    /// Seconds of every timed run, one per round.
    let seconds: [Double]
    /// The row's metric (µs/op, ms/op or GB/s) of every run.
    let values: [Double]
    /// Median of `values` with its 95% interval.
    let value: MedianInterval

    init(
        kind: ContenderKind, method: String, warmupSeconds: Double, seconds: [Double], metric: Metric, operations: Int,
        bytes: Int
    ) {
        self.kind = kind
        self.method = method
        self.warmupSeconds = warmupSeconds
        self.seconds = seconds
        values = seconds.map { metric.value(seconds: $0, operations: operations, bytes: bytes) }
        value = MedianInterval(values)
    }
}

/// A speed ratio between two contenders: the median over rounds of the per-round ratio
/// (denominator's seconds ÷ numerator's seconds in the same round: above 1, the numerator was
/// faster), with its 95% distribution-free interval.
struct RatioResult: Codable, Sendable {
    let pair: RatioPair
    /// One per round.
    let perRound: [Double]
    let estimate: MedianInterval
    /// Whether the report shows it (a target's ratio, or the row's headline ratio).
    let shown: Bool
}

/// The extra time per operation one contender took over another in the same round (numerator's
/// time minus denominator's, in µs per operation), summarized like a ratio: the median over the
/// rounds with its 95% distribution-free interval. What the numerator does that the denominator
/// does not costs this much (the hop to the I/O pool, say).
struct DifferenceResult: Codable, Sendable {
    let pair: RatioPair
    /// µs per operation, one per round.
    let perRound: [Double]
    let estimate: MedianInterval

    /// "LS async − LS inline".
    var label: String { "\(pair.numerator.title) − \(pair.denominator.title)" }
}

/// Where a target's interval lies.
enum Verdict: String, Codable, Sendable {
    /// The whole interval is at or above the target.
    case met
    /// The whole interval is below the target.
    case missed
    /// The interval straddles the target: this run cannot tell.
    case inconclusive
    /// The row failed: nothing to judge.
    case notMeasured = "not measured"
}

/// A target judged against this run's interval.
struct TargetResult: Codable, Sendable {
    let target: Target
    let description: String
    let estimate: MedianInterval?
    let verdict: Verdict

    init(target: Target, estimate: MedianInterval?) {
        self.target = target
        description = target.summary
        self.estimate = estimate
        if let estimate, estimate.count > 0 {
            if estimate.lower >= target.minimum {
                verdict = .met
            } else if estimate.upper < target.minimum {
                verdict = .missed
            } else {
                verdict = .inconclusive
            }
        } else {
            verdict = .notMeasured
        }
    }
}

/// An absolute target judged against this run's interval of the contender's median: met when
/// the whole interval is at or below the maximum, missed when the whole interval is above it.
struct BoundResult: Codable, Sendable {
    let bound: Bound
    let description: String
    /// The contender's median value with its interval.
    let estimate: MedianInterval?
    let verdict: Verdict

    init(bound: Bound, estimate: MedianInterval?) {
        self.bound = bound
        description = bound.summary
        self.estimate = estimate
        if let estimate, estimate.count > 0 {
            if estimate.upper <= bound.maximum {
                verdict = .met
            } else if estimate.lower > bound.maximum {
                verdict = .missed
            } else {
                verdict = .inconclusive
            }
        } else {
            verdict = .notMeasured
        }
    }

    /// The bound over the median (above 1: within the bound), with its interval: how the chart
    /// draws it, on the same axis as the ratios.
    var headroom: MedianInterval? {
        guard let estimate, estimate.count > 0 else { return nil }
        return MedianInterval(
            median: bound.maximum / max(estimate.median, 1e-12), lower: bound.maximum / max(estimate.upper, 1e-12),
            upper: bound.maximum / max(estimate.lower, 1e-12), coverage: estimate.coverage, count: estimate.count)
    }
}

/// Why a row stopped taking rounds.
enum StopReason: String, Codable, Sendable {
    /// Every shown ratio's interval came within the chosen precision.
    case precise = "interval within precision"
    /// The row's time budget was spent first.
    case budget = "time budget spent"
    /// The round limit was reached first.
    case rounds = "round limit"
    /// A contender failed.
    case failed
}

/// Everything measured for one workload.
struct WorkloadResult: Codable, Sendable {
    let id: String
    let group: WorkloadGroup
    let label: String
    let objectSize: Int
    let operationsPerRun: Int
    let bytesPerRun: Int
    let metric: Metric
    let durability: String?
    let threads: Int?
    let rounds: Int
    /// The contenders' order in each round (the warm-up ran them in reverse declaration order).
    let orders: [[ContenderKind]]
    let stopReason: StopReason
    let contenders: [ContenderResult]
    /// The engine against every baseline, plus every shown pair.
    let ratios: [RatioResult]
    /// The row's per-operation time differences (µs), if it asks for any.
    let differences: [DifferenceResult]
    let targets: [TargetResult]
    /// Absolute targets (a contender's own median against a maximum).
    let bounds: [BoundResult]
    let notes: [String]
    /// Set when the workload could not complete; its measurements are then partial or empty.
    let error: String?
    let elapsedSeconds: Double

    func contender(_ kind: ContenderKind) -> ContenderResult? { contenders.first { $0.kind == kind } }

    func ratio(_ pair: RatioPair) -> RatioResult? { ratios.first { $0.pair == pair } }

    /// The shown ratios, in the order the row declares them.
    var shownRatios: [RatioResult] { ratios.filter(\.shown) }
}

extension WorkloadResult {
    init(
        _ workload: Workload, seconds: [[Double]], warmups: [Double], orders: [[Int]], stopReason: StopReason,
        error: String?, observations: [String] = [], elapsedSeconds: Double
    ) {
        let contenders = workload.contenders.enumerated().map { slot, contender in
            ContenderResult(
                kind: contender.kind, method: contender.method, warmupSeconds: warmups[slot], seconds: seconds[slot],
                metric: workload.metric, operations: workload.operations, bytes: workload.bytesPerRun)
        }
        let rounds = seconds.map(\.count).min() ?? 0
        var pairs = workload.contenders.dropFirst().map { RatioPair(numerator: .engine, denominator: $0.kind) }
        for pair in workload.shownRatios where !pairs.contains(pair) { pairs.append(pair) }
        let slots = Dictionary(uniqueKeysWithValues: workload.contenders.enumerated().map { ($1.kind, $0) })
        let ratios: [RatioResult] = pairs.compactMap { pair in
            guard let top = slots[pair.numerator], let bottom = slots[pair.denominator] else { return nil }
            let perRound = Runner.pairedRatios(seconds[top], seconds[bottom], rounds: rounds)
            return RatioResult(
                pair: pair, perRound: perRound, estimate: MedianInterval(perRound),
                shown: workload.shownRatios.contains(pair))
        }
        let differences: [DifferenceResult] = workload.differences.compactMap { pair in
            guard let top = slots[pair.numerator], let bottom = slots[pair.denominator] else { return nil }
            let operations = Double(max(1, workload.operations))
            let perRound = (0..<min(rounds, seconds[top].count, seconds[bottom].count)).map { round in
                (seconds[top][round] - seconds[bottom][round]) / operations * 1e6
            }
            return DifferenceResult(pair: pair, perRound: perRound, estimate: MedianInterval(perRound))
        }
        let targets = workload.targets.map { target in
            TargetResult(
                target: target, estimate: error == nil ? ratios.first { $0.pair == target.pair }?.estimate : nil)
        }
        let bounds = workload.bounds.map { bound in
            BoundResult(bound: bound, estimate: error == nil ? contenders.first { $0.kind == bound.kind }?.value : nil)
        }
        self.init(
            id: workload.id, group: workload.group, label: workload.label, objectSize: workload.objectSize,
            operationsPerRun: workload.operations, bytesPerRun: workload.bytesPerRun, metric: workload.metric,
            durability: workload.durability?.name, threads: workload.threads, rounds: rounds,
            orders: orders.map { $0.map { workload.contenders[$0].kind } }, stopReason: stopReason,
            contenders: contenders, ratios: ratios, differences: differences, targets: targets, bounds: bounds,
            notes: workload.notes + observations, error: error, elapsedSeconds: elapsedSeconds)
    }

    /// A workload that failed before it could be built.
    init(failed spec: WorkloadSpec, error: String) {
        self.init(
            id: spec.id, group: spec.group, label: spec.label, objectSize: spec.objectSize, operationsPerRun: 0,
            bytesPerRun: 0, metric: .microsecondsPerOperation, durability: nil, threads: nil, rounds: 0, orders: [],
            stopReason: .failed, contenders: [], ratios: [], differences: [], targets: [], bounds: [], notes: [], error: error,
            elapsedSeconds: 0)
    }
}
#endif
