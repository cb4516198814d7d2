/// Runs workloads: builds each one just before it runs (so at most one workload's memory is
/// alive), runs one untimed warm-up round of every contender, then the timed repetitions with
/// the contenders alternating (A B C, then another order, ...) so a slow phase of the machine
/// hits all of them alike. See `order(repetition:contenders:)` for why the order changes.
///
/// Every run is: `prepare` (untimed), `run` between two CLOCK_MONOTONIC readings, release of
/// what it returned (untimed), `reset` (untimed), then syncfs(2) of the scratch file system
/// (untimed) so that no run pays for an earlier run's writeback.
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
        var warmups = [Double](repeating: 0, count: workload.contenders.count)
        var seconds = [[Double]](repeating: [], count: workload.contenders.count)
        var failure: String?
        do {
            try workload.setUp()
            let count = workload.contenders.count
            // Warm-up in reverse, so the first timed run (the engine) follows itself.
            for slot in (0..<count).reversed() {
                let contender = workload.contenders[slot]
                progress.step("warm-up", contender.kind)
                warmups[slot] = try once(contender)
            }
            let orders = Runner.schedule(contenders: count, repetitions: max(1, workload.repetitions))
            for (repetition, order) in orders.enumerated() {
                for slot in order {
                    let contender = workload.contenders[slot]
                    progress.step("rep \(repetition + 1)/\(workload.repetitions)", contender.kind)
                    seconds[slot].append(try once(contender))
                }
            }
        } catch {
            failure = "\(error)"
            progress.fail(spec.label, error)
        }
        do { try workload.tearDown() } catch { failure = failure ?? "tear-down: \(error)" }
        context.settle()
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        let contenders = workload.contenders.enumerated().map { slot, contender in
            ContenderResult(
                kind: contender.kind, method: contender.method, warmupSeconds: warmups[slot],
                seconds: seconds[slot], bytes: workload.bytesPerRepetition, operations: workload.operations)
        }
        let result = WorkloadResult(workload, contenders: contenders, error: failure, elapsedSeconds: elapsed)
        if failure == nil { progress.finish(result) }
        return result
    }

    /// The contenders' order in every repetition, so that over the run each contender is
    /// preceded by each other one about equally often (a greedy, deterministic balance of
    /// "who ran right before whom", counting across repetition boundaries and starting after the
    /// reversed warm-up, which ends with contender 0). For three contenders it gives
    /// 0 1 2, 0 2 1, 1 0 2, 2 0 1, 2 1 0, ...
    ///
    /// A plain rotation (0 1 2, 1 2 0, 2 0 1) keeps the cyclic order, so each contender nearly
    /// always runs right after the same one. That matters where one run leaves the machine slower
    /// for the next: on a VM with free-page reporting (virtio-balloon) the run after Foundation's
    /// 4 KiB-chunked 1 GiB copy was slow most of the time (its page-cache memory had to be faulted
    /// in from the host again), which under a rotation penalized the engine alone.
    static func schedule(contenders count: Int, repetitions: Int) -> [[Int]] {
        let permutations = lexicographicPermutations(of: Array(0..<count))
        var pairs = [[Int]](repeating: [Int](repeating: 0, count: count), count: count)
        var last = 0
        var orders: [[Int]] = []
        for _ in 0..<repetitions {
            var bestCost = Int.max
            var bestOrder = Array(0..<count)
            var bestPairs = pairs
            for order in permutations {
                var trial = pairs
                var previous = last
                for slot in order {
                    trial[previous][slot] += 1
                    previous = slot
                }
                let cost = trial.joined().reduce(0) { $0 + $1 * $1 }
                if cost < bestCost {
                    bestCost = cost
                    bestOrder = order
                    bestPairs = trial
                }
            }
            pairs = bestPairs
            last = bestOrder.last ?? 0
            orders.append(bestOrder)
        }
        return orders
    }

    /// All orderings of `items`, in lexicographic order of positions (so ties break the same
    /// way on every run).
    static func lexicographicPermutations(of items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        var result: [[Int]] = []
        for (index, first) in items.enumerated() {
            var rest = items
            rest.remove(at: index)
            for tail in lexicographicPermutations(of: rest) { result.append([first] + tail) }
        }
        return result
    }

    /// One run of one contender; returns the timed seconds.
    private func once(_ contender: Contender) throws -> Double {
        try contender.prepare()
        let elapsed: UInt64
        do {
            let start = monotonicNanoseconds()
            let kept = try contender.run()
            var end: UInt64 = 0
            withExtendedLifetime(kept) { end = monotonicNanoseconds() }
            elapsed = end - start
        } catch {
            try? contender.reset()
            throw ContenderFailure(kind: contender.kind, underlying: error)
        }
        try contender.reset()
        context.settle()
        return Double(elapsed) / 1e9
    }
}

/// A contender's run threw.
struct ContenderFailure: Error, CustomStringConvertible {
    let kind: ContenderKind
    let underlying: any Error
    var description: String { "\(kind.title) failed: \(underlying)" }
}
