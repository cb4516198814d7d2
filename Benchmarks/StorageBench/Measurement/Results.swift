/// What one contender measured in one workload.
struct ContenderResult: Codable, Sendable {
    let kind: ContenderKind
    let method: String
    /// Seconds of the untimed-for-the-report warm-up run.
    let warmupSeconds: Double
    /// Seconds of every timed repetition, in order.
    let seconds: [Double]
    /// Per repetition; nil when the workload moves no file content.
    let megabytesPerSecond: [Double]?
    let operationsPerSecond: [Double]
    let megabytesPerSecondSummary: Summary?
    let operationsPerSecondSummary: Summary
    let secondsSummary: Summary

    init(kind: ContenderKind, method: String, warmupSeconds: Double, seconds: [Double], bytes: Int, operations: Int) {
        self.kind = kind
        self.method = method
        self.warmupSeconds = warmupSeconds
        self.seconds = seconds
        let rates = Rates(seconds: seconds, bytes: bytes, operations: operations)
        megabytesPerSecond = rates.megabytesPerSecond
        operationsPerSecond = rates.operationsPerSecond
        megabytesPerSecondSummary = rates.megabytesPerSecond.map(Summary.init)
        operationsPerSecondSummary = Summary(rates.operationsPerSecond)
        secondsSummary = Summary(seconds)
    }

    /// The row's headline rate (median, min, max) in `metric`.
    func summary(_ metric: Metric) -> Summary {
        switch metric {
        case .megabytesPerSecond: megabytesPerSecondSummary ?? operationsPerSecondSummary
        case .operationsPerSecond: operationsPerSecondSummary
        }
    }
}

/// A target checked against this run's ratio.
struct TargetResult: Codable, Sendable {
    let target: Target
    let description: String
    let ratio: Double?
    let met: Bool
}

/// Everything measured for one workload: every contender's repetitions, the engine's ratio
/// to each baseline (medians, same run) and the targets.
struct WorkloadResult: Codable, Sendable {
    let id: String
    let group: WorkloadGroup
    let label: String
    let objectSize: Int
    let operationsPerRepetition: Int
    let bytesPerRepetition: Int
    let metric: Metric
    let repetitions: Int
    let durability: String?
    let directStream: Bool?
    let threads: Int?
    let contenders: [ContenderResult]
    /// Engine median / baseline median, in `metric`, keyed by baseline kind.
    let ratios: [String: Double]
    let targets: [TargetResult]
    let notes: [String]
    /// Set when the workload could not complete; its measurements are then partial or empty.
    let error: String?
    let elapsedSeconds: Double

    func contender(_ kind: ContenderKind) -> ContenderResult? { contenders.first { $0.kind == kind } }

    func ratio(_ kind: ContenderKind) -> Double? { ratios[kind.rawValue] }

    /// Fastest over slowest repetition of a contender (1 = perfectly steady).
    func spread(_ kind: ContenderKind) -> Double? {
        guard let summary = contender(kind)?.summary(metric), summary.min > 0 else { return nil }
        return summary.max / summary.min
    }

    /// Whether the engine's or the raw loop's repetitions disagree by more than 1.5×: then the
    /// medians (and ratios) of this row deserve more repetitions before anyone trusts them.
    var isNoisy: Bool { [ContenderKind.engine, .raw].contains { (spread($0) ?? 1) > 1.5 } }

    /// A contender's median relative to the raw-syscall loop's median (raw = 1.0), for the chart.
    func relativeToRaw(_ kind: ContenderKind) -> Double? {
        guard error == nil, let mine = contender(kind), let raw = contender(.raw) else { return nil }
        let base = raw.summary(metric).median
        return base > 0 ? mine.summary(metric).median / base : nil
    }
}

extension WorkloadResult {
    init(_ workload: Workload, contenders: [ContenderResult], error: String?, elapsedSeconds: Double) {
        var ratios: [String: Double] = [:]
        if error == nil, let engine = contenders.first(where: { $0.kind == .engine }) {
            let engineMedian = engine.summary(workload.metric).median
            for baseline in contenders where baseline.kind != .engine {
                let median = baseline.summary(workload.metric).median
                if median > 0 { ratios[baseline.kind.rawValue] = engineMedian / median }
            }
        }
        let targets = workload.targets.map { target in
            let ratio = ratios[target.baseline.rawValue]
            return TargetResult(
                target: target, description: target.summary, ratio: ratio,
                met: ratio.map { target.isMet(by: $0) } ?? false)
        }
        self.init(
            id: workload.id, group: workload.group, label: workload.label, objectSize: workload.objectSize,
            operationsPerRepetition: workload.operations, bytesPerRepetition: workload.bytesPerRepetition,
            metric: workload.metric, repetitions: workload.repetitions,
            durability: workload.durability?.name, directStream: workload.directStream, threads: workload.threads,
            contenders: contenders, ratios: ratios, targets: targets, notes: workload.notes, error: error,
            elapsedSeconds: elapsedSeconds)
    }

    /// A workload that failed before it could be built.
    init(failed spec: WorkloadSpec, error: String) {
        self.init(
            id: spec.id, group: spec.group, label: spec.label, objectSize: spec.objectSize,
            operationsPerRepetition: 0, bytesPerRepetition: 0, metric: .megabytesPerSecond, repetitions: 0,
            durability: nil, directStream: nil, threads: nil, contenders: [], ratios: [:], targets: [],
            notes: [], error: error, elapsedSeconds: 0)
    }
}
