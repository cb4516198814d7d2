// Child-process helper for the tests. Each command does one job in a fresh process, so
// measurements (peak RSS), crashes (SIGKILL, strace fault injection), process-wide settings
// (umask, rlimits) and mount namespaces involve nothing else.
//
//   rss <ingest-direct|ingest-buffered|export|stream|writer|download> <root> <path> <size>
//       prints "before=<KiB> after=<KiB>": peak RSS before and after the operation
//   crash-writer <root> <workdir> <seed> [naive]
//       uploads self-verifying versions through every upload path until killed;
//       `naive` writes in place instead (open O_TRUNC + write), to show the harness catches tears
//   sequence <root> <workdir> <seed>
//       one upload through each path, then exits; under strace error injection it reports
//       failures and checks that every name still holds a complete version
//   hammer <root> <seconds> <seed>
//       4 threads of random puts, gets, deletes and lists; exits 1 on any torn read
//   fsize <root>      RLIMIT_FSIZE of 1 MiB with SIGXFSZ ignored: big uploads fail with EFBIG
//   enospc <root>     the root is on a 4 MiB tmpfs: big uploads fail with ENOSPC, space comes back
//   modes <root> <umask-octal>
//       prints "stored=<mode> temp=<mode>" under that umask
//   sweep-nofile <root> <limit>   orphan sweep under RLIMIT_NOFILE: prints "removed=<n>"
//   seccomp-openat2 <root>        openat2 denied with EPERM by seccomp: prints "ok" if all works
//   sweep-cost <root>             prints the time to open the storage and to sweep it whole
//   cache-race, cache-compute, hold-lock, lock-counter, cache-seed, locks-read-only,
//   fork-while-holding
//       lock and cache callers; see Locks.swift
//   limits-writer <root> <maxBytes> <uploads> <seed>
//       uploads and reads under limits shared with other processes; see LimitsWriter.swift
//   async-starvation <root> <downloads>
//       concurrent async downloads of 64 MiB beside a 10 ms timer; see AsyncStarvation.swift
//   powerloss-writer <root> <workdir> <log> <seed> <noSync|fileSync|fullSync> [limits]
//       random uploads, deletes, new contexts and cache calls (objects, arrays, locks,
//       get-or-compute; prune with limits) until killed, each logged and acknowledged (PowerLoss.swift)
//   powerloss-open <root> <log>
//       opens a storage with .fullSync on a new root, logs that it returned, then waits to be killed
import Foundation
import Glibc

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let rest = Array(arguments.dropFirst())
    switch arguments.first {
    case "rss": try measure(rest)
    case "crash-writer": try crashWriter(rest)
    case "sequence": try sequence(rest)
    case "hammer": try hammer(rest)
    case "fsize": try fileSizeLimit(rest)
    case "enospc": try fullDisk(rest)
    case "modes": try modes(rest)
    case "sweep-nofile": try sweepUnderFileLimit(rest)
    case "seccomp-openat2": try underSeccomp(rest)
    case "sweep-cost": try sweepCost(rest)
    case "cache-race": try cacheRace(rest)
    case "cache-compute": try cacheCompute(rest)
    case "hold-lock": try holdLock(rest)
    case "lock-counter": try lockCounter(rest)
    case "cache-seed": try cacheSeed(rest)
    case "locks-read-only": try locksOnReadOnlyRoot(rest)
    case "fork-while-holding": try forkWhileHolding(rest)
    case "limits-writer": try limitsWriter(rest)
    case "async-starvation": try asyncStarvation(rest)
    case "powerloss-writer": try powerLossWriter(rest)
    case "powerloss-open": try powerLossOpener(rest)
    default: fail("usage: see the comment at the top of main.swift")
    }
} catch {
    fail("error: \(error)")
}
