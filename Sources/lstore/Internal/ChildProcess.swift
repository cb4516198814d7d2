import Glibc
import Synchronization

/// The child `lock` runs, for the signal handler that forwards SIGTERM and SIGHUP to it.
private let forwardingTarget = Atomic<Int32>(0)

/// Runs `command` (looked up in PATH like a shell does) with lstore's standard descriptors and
/// environment, waits for it, and returns the status a shell would report: its exit status, or
/// 128 + the signal that killed it.
///
/// While it runs, lstore ignores SIGINT and SIGQUIT (a terminal sends them to the child too,
/// and lstore must outlive it to release the lock after it), and forwards SIGTERM and SIGHUP
/// to it. The child starts with default dispositions and an empty signal mask.
///
/// - Throws: `Failure` with status 127 when the command is not found, 126 when it cannot be
///   run, 1 when the spawn fails otherwise.
func runCommand(_ command: [String]) throws -> Int32 {
    guard let program = command.first else { throw Failure(.usage, "no command to run") }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let previousInterrupt = signal(SIGINT, SIG_IGN)
    let previousQuit = signal(SIGQUIT, SIG_IGN)
    let forward: @convention(c) (CInt) -> Void = { signal in
        let child = forwardingTarget.load(ordering: .relaxed)
        if child > 0 { kill(child, signal) }
    }
    let previousTerminate = signal(SIGTERM, forward)
    let previousHangUp = signal(SIGHUP, forward)
    defer {
        forwardingTarget.store(0, ordering: .relaxed)
        signal(SIGINT, previousInterrupt)
        signal(SIGQUIT, previousQuit)
        signal(SIGTERM, previousTerminate)
        signal(SIGHUP, previousHangUp)
    }

    var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
    arguments.append(nil)
    defer { for argument in arguments { free(argument) } }
    var child: pid_t = 0
    let spawned = posix_spawnp(&child, program, nil, &attributes, arguments, environ)
    guard spawned == 0 else {
        let reason = String(cString: strerror(spawned))
        switch spawned {
        case ENOENT: throw Failure(.commandNotFound, "\(program): command not found: \(reason)")
        case EACCES, ENOEXEC, EISDIR: throw Failure(.commandNotExecutable, "\(program): cannot run it: \(reason)")
        default: throw Failure(.failure, "\(program): cannot start it: \(reason)")
        }
    }
    forwardingTarget.store(child, ordering: .relaxed)

    var status: CInt = 0
    while waitpid(child, &status, 0) < 0 {
        if errno != EINTR { throw Failure(.failure, "waitpid failed: \(String(cString: strerror(errno)))") }
    }
    // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift cannot import as macros.
    let signalNumber = status & 0x7f
    return signalNumber == 0 ? (status >> 8) & 0xff : 128 + signalNumber
}
