// Test-only fault injection, compiled only where Package.swift defines ENABLE_MOCKING (debug).
// A test installs a `FaultInjector` for the current task; every raw call in
// `Syscalls_linux.swift` asks it whether this call (the Nth to that syscall) should fail with an
// errno or move fewer bytes than asked. Being task-local, one test's faults never leak into
// another test running in parallel.
#if ENABLE_MOCKING
internal import CLocalStorage
import Synchronization

final class FaultInjector: Sendable {
    enum Fault: Sendable, Equatable {
        /// The call returns -1 with this errno.
        case fail(CInt)
        /// A transfer call (read, write, copy_file_range, sendfile, splice) moves at most this
        /// many bytes; other calls ignore it.
        case shortCount(Int)
    }

    struct Rule: Sendable {
        var syscall: Syscall
        /// 1-based index of the first call this rule hits.
        var call: Int
        /// Hit every call from `call` on, rather than that one call only.
        var repeats: Bool
        var fault: Fault
    }

    /// Runs `body` just before the `call`th call to `syscall` (for races a test must win).
    struct Hook: Sendable {
        var syscall: Syscall
        var call: Int
        var body: @Sendable () -> Void
    }

    private struct State {
        var rules: [Rule]
        var hooks: [Hook] = []
        var counts: [Syscall: Int] = [:]
        var bytes: [Syscall: Int] = [:]
        var injected = 0
        var tempNames: [String] = []
    }

    private let state: Mutex<State>

    /// - Parameter tempNames: names the engine takes for its next temp files, in order, before
    ///   it goes back to random ones (so a test can plant something at a would-be temp name).
    init(_ rules: [Rule] = [], tempNames: [String] = [], hooks: [Hook] = []) {
        state = Mutex(State(rules: rules, hooks: hooks, tempNames: tempNames))
    }

    /// The next forced temp name, if any are left.
    func takeTempName() -> String? {
        state.withLock { $0.tempNames.isEmpty ? nil : $0.tempNames.removeFirst() }
    }

    /// The task's injector, if a test installed one.
    @TaskLocal static var current: FaultInjector?

    /// How many times `syscall` was called while this injector was installed.
    func calls(to syscall: Syscall) -> Int { state.withLock { $0.counts[syscall, default: 0] } }

    /// How many bytes the transfer calls to `syscall` really moved.
    func bytesMoved(by syscall: Syscall) -> Int { state.withLock { $0.bytes[syscall, default: 0] } }

    func record(_ syscall: Syscall, moved: Int) {
        guard moved > 0 else { return }
        state.withLock { $0.bytes[syscall, default: 0] += moved }
    }

    /// How many faults were injected.
    var injectedCount: Int { state.withLock { $0.injected } }

    /// Counts the call, runs its hook if it has one, and returns the fault, if any, that
    /// applies to it.
    func fault(for syscall: Syscall) -> Fault? {
        let (fault, hook) = state.withLock { state -> (Fault?, Hook?) in
            let n = state.counts[syscall, default: 0] + 1
            state.counts[syscall] = n
            let hook = state.hooks.first { $0.syscall == syscall && $0.call == n }
            for rule in state.rules where rule.syscall == syscall {
                if rule.repeats ? n >= rule.call : n == rule.call {
                    state.injected += 1
                    return (rule.fault, hook)
                }
            }
            return (nil, hook)
        }
        hook?.body()  // outside the lock: the hook may make calls of its own
        return fault
    }

    /// Runs `body` with this injector installed for the current task.
    @discardableResult
    func run<R>(_ body: () throws -> R) rethrows -> R {
        try FaultInjector.$current.withValue(self) { try body() }
    }
}

/// For calls that cannot be shortened: -1 with errno set when a failure is injected.
@inline(__always)
func mockFailure(_ syscall: Syscall) -> Int? {
    guard let injector = FaultInjector.current, case .fail(let code)? = injector.fault(for: syscall) else {
        return nil
    }
    CLocalStorage_set_errno(code)
    return -1
}

/// After a real transfer call: adds the bytes it moved to the installed injector's account.
@inline(__always)
func mockRecord(_ syscall: Syscall, _ result: Int) {
    FaultInjector.current?.record(syscall, moved: result)
}

/// For transfer calls: -1 with errno set for an injected failure, or `count` lowered for an
/// injected short count (the real call then runs with it).
@inline(__always)
func mockAction(_ syscall: Syscall, count: inout Int) -> Int? {
    guard let injector = FaultInjector.current, let fault = injector.fault(for: syscall) else { return nil }
    switch fault {
    case .fail(let code):
        CLocalStorage_set_errno(code)
        return -1
    case .shortCount(let limit):
        count = min(count, max(limit, 1))
        return nil
    }
}
#endif
