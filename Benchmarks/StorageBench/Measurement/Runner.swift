#if Benchmark
/// Runs workloads, one at a time: builds each just before it runs (so at most one workload's
/// memory is alive), runs one untimed warm-up of every contender, then rounds.
///
/// A round runs every contender once, in an order drawn at random (seeded), so a slow phase of
/// the machine (another process's build, writeback, a host-side page fault storm) hits whoever
/// happens to run then, not always the same contender. The ratio between two contenders is
/// taken per round (their two runs were seconds apart) and summarized by its median over the
/// rounds, with the sign test's 95% interval (see `MedianInterval`).
///
/// Rounds go on until every shown ratio's interval lies within ± `precision` of its median,
/// after at least `minimumRounds`; or until the row's time budget or the round limit is spent.
/// Stopping when the interval is tight (optional stopping) makes the stated 95% slightly
/// optimistic; the minimum of 6 rounds and the ±5% bar keep that small next to the noise it
/// handles.
///
/// Every run is: `prepare` (untimed), `run` between two CLOCK_MONOTONIC readings, release of
/// what it returned (untimed), `reset` (untimed), then, in rows that write, syncfs(2) of the
/// scratch file system (untimed) so that no run pays for an earlier run's writeback.
struct Runner {
    let context: BenchContext
    let progress: Progress

    func run(_ spec: WorkloadSpec, index: Int, of total: Int) -> WorkloadResult {
        let started = monotonicNanoseconds()
        progress.begin(index: index, total: total, label: spec.label)
        let workload: Workload
        do {
            workload = try spec.build(context)
        } catch {
            progress.fail(spec.label, error)
            return WorkloadResult(failed: spec, error: "\(error)")
        }
        let settings = context.settings
        let count = workload.contenders.count
        var warmups = [Double](repeating: 0, count: count)
        var seconds = [[Double]](repeating: [], count: count)
        var orders: [[Int]] = []
        var failure: String?
        var stopReason = StopReason.rounds
        // Each row draws its orders from its own seed, so a row's orders do not depend on which
        // rows ran before it.
        var generator = SeededGenerator(seed: settings.seed ^ stableHash(workload.id))
        let budget = settings.budget(forObjectSize: workload.objectSize)
        do {
            try workload.setUp()
            // Warm-up in reverse, so the first declared contender does not always go first.
            for slot in (0..<count).reversed() {
                progress.step("warm-up", workload.contenders[slot].kind)
                warmups[slot] = try once(workload.contenders[slot], settle: workload.writes)
            }
            let roundsStarted = monotonicNanoseconds()
            while orders.count < settings.maximumRounds {
                let order = Array(0..<count).shuffled(using: &generator)
                for slot in order {
                    progress.step("round \(orders.count + 1)", workload.contenders[slot].kind)
                    seconds[slot].append(try once(workload.contenders[slot], settle: workload.writes))
                }
                orders.append(order)
                guard orders.count >= settings.minimumRounds else { continue }
                let widest = widestShownInterval(workload, seconds)
                progress.precision(widest)
                if widest <= settings.precision {
                    stopReason = .precise
                    break
                }
                if Double(monotonicNanoseconds() - roundsStarted) / 1e9 >= budget {
                    stopReason = .budget
                    break
                }
            }
        } catch {
            failure = "\(error)"
            stopReason = .failed
            progress.fail(spec.label, error)
        }
        // What the runs observed, read before the tear-down removes what it looks at.
        let observations = workload.observations()
        do { try workload.tearDown() } catch { failure = failure ?? "tear-down: \(error)" }
        context.settle()
        // Rounds that a failure cut short are dropped, so every contender has the same rounds.
        let complete = orders.count
        let result = WorkloadResult(
            workload, seconds: seconds.map { Array($0.prefix(complete)) }, warmups: warmups, orders: orders,
            stopReason: stopReason, error: failure, observations: observations,
            elapsedSeconds: Double(monotonicNanoseconds() - started) / 1e9)
        if failure == nil { progress.finish(result) }
        return result
    }

    /// The widest relative half-width among the row's shown ratios so far.
    private func widestShownInterval(_ workload: Workload, _ seconds: [[Double]]) -> Double {
        let slots = Dictionary(uniqueKeysWithValues: workload.contenders.enumerated().map { ($1.kind, $0) })
        let rounds = seconds.map(\.count).min() ?? 0
        var widest = 0.0
        for pair in workload.shownRatios {
            guard let top = slots[pair.numerator], let bottom = slots[pair.denominator] else { continue }
            let interval = MedianInterval(Runner.pairedRatios(seconds[top], seconds[bottom], rounds: rounds))
            widest = max(widest, interval.relativeHalfWidth)
        }
        return widest
    }

    /// The numerator's speed over the denominator's in each round: the denominator's seconds
    /// over the numerator's (both did the same work).
    static func pairedRatios(_ numerator: [Double], _ denominator: [Double], rounds: Int) -> [Double] {
        (0..<min(rounds, numerator.count, denominator.count)).map { round in
            denominator[round] / max(numerator[round], 1e-9)
        }
    }

    /// One run of one contender; returns the timed seconds.
    private func once(_ contender: Contender, settle: Bool) throws -> Double {
        try contender.prepare()
        var elapsed: Double
        do {
            let start = monotonicNanoseconds()
            let kept = try contender.run()
            var end: UInt64 = 0
            withExtendedLifetime(kept) { end = monotonicNanoseconds() }
            elapsed = Double(end - start) / 1e9
            if let measured = kept as? MeasuredSeconds { elapsed = measured.seconds }
        } catch {
            try? contender.reset()
            throw ContenderFailure(kind: contender.kind, underlying: error)
        }
        try contender.reset()
        if settle { context.settle() }
        return elapsed
    }
}

/// FNV-1a of a string: a hash that is the same in every process (Swift's `Hasher` is seeded
/// per process).
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}

/// A contender's run threw.
struct ContenderFailure: Error, CustomStringConvertible {
    let kind: ContenderKind
    let underlying: any Error
    var description: String { "\(kind.title) failed: \(underlying)" }
}
#endif
