// In a release build (`swift test -c release`) the fault injector is compiled out, and with it
// every test that injects faults. They show here as skipped, with the reason, rather than
// vanishing from the count.
#if !ENABLE_MOCKING
import Testing

@Suite struct FaultInjectionNeedsADebugBuild {
    static let reason: Comment = "needs the fault injector, compiled only in debug builds (`swift test` without -c release)"

    @Test(.disabled(reason)) func faultSweep() {}
    @Test(.disabled(reason)) func failureInjection() {}
    @Test(.disabled(reason)) func moveSourceSwapRaces() {}
    @Test(.disabled(reason)) func transferByteAccounting() {}
    @Test(.disabled(reason)) func nameFuzzSyscallChecks() {}
    @Test(.disabled(reason)) func secondPassFaultCases() {}
}
#endif
