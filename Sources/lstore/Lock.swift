#if CLI
import ArgumentParser
import LocalStorage

/// `lstore lock ROOT NAME [--context C] [--timeout 5s] -- COMMAND...`: flock(1) on the storage's
/// named locks.
struct Lock: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command while holding a named lock of the storage.",
        discussion: """
            Like flock(1), on the storage's own locks: the same lock that withLock takes in \
            every process using the root. Waits for the lock (at most --timeout; 0 tries once), \
            runs COMMAND (looked up in PATH), releases the lock when it ends, and exits with \
            its status. lstore holds the lock, not the command: if lstore is killed, the kernel \
            releases the lock at once. While the command runs, lstore ignores SIGINT and SIGQUIT \
            (a terminal sends them to the command too) and passes SIGTERM and SIGHUP on to it.

              lstore lock /var/cache/app nightly --timeout 10s -- ./rebuild-index.sh
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory (created if missing).")
    var root: String

    @Argument(help: "The lock's name (a valid file name; locks and files do not share names).")
    var name: String

    @Option(help: "The context the lock belongs to ('' for the root, the default).")
    var context: String = ""

    @Option(
        help: ArgumentHelp("Give up after waiting this long (e.g. 5s, 500ms, 2m); 0 tries once.", valueName: "age"), transform: parseAge)
    var timeout: Age?

    @Argument(parsing: .remaining, help: "The command to run and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after --") }
    }

    func run() throws {
        let storage = try openStorage(root, create: true)
        let name = self.name
        let waiting = ProgressLine(enabled: common.showsProgress) { elapsed, _ in
            "waiting for lock '\(name)'  (\(Int(elapsed))s)"
        }
        let status: Int32
        do {
            defer { waiting.finish() }
            status = try storage.withLock(name, context: normalizedContext(context), timeout: timeout?.duration) {
                waiting.finish()
                return try runCommand(command)
            }
        } catch let error as LocalStorageError where error.code == .timedOut {
            throw Failure(.timedOut, "lock '\(name)' is held elsewhere: gave up after \(timeout.map(\.description) ?? "0s")")
        }
        if status != 0 { throw ExitCode(status) }
    }
}
#endif
