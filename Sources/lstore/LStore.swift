#if CLI
import ArgumentParser

/// The root command: its help lists the subcommands, the argument conventions and the exit
/// statuses.
struct LStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lstore",
        abstract: "Inspect and manage a LocalStorage root from the shell.",
        discussion: """
            Every subcommand takes the storage ROOT directory first. A CONTEXT is a path of \
            directories under it ("images", "runs/42"); '' or '.' is the root itself. Stored \
            names are single path components.

            Sizes are written like 10G, 512MiB or 1.5GB (K, M, G, T, P and KiB, MiB, ... are \
            powers of 1024; KB, MB, GB, ... powers of 1000); ages and timeouts like 30d, 12h, \
            90m, 45s, 500ms or 1h30m.

            Transfers and scans that last more than a second show a progress line on standard \
            error when it is a terminal (never otherwise; --quiet turns it off). Errors are \
            reported as one line, 'lstore: <message>'.

            EXIT STATUS
              0    success
              1    I/O or other system failure (EIO, no space, permission denied...)
              2    not found: the root, context, file or source does not exist
              3    invalid input: a name or context the storage refuses, a symlink,
                   a directory where a file was expected
              4    verify found corrupted objects or arrays (also when it removed them)
              5    lock --timeout ran out before the lock was free
              64   usage error: unknown option, missing argument, bad size or age
              126  lock: the command cannot be run
              127  lock: the command was not found
              Otherwise lock exits with its command's status (128+N for signal N).
            """,
        subcommands: [
            Put.self, Get.self, List.self, Remove.self, Info.self, DiskUsage.self, Prune.self, Verify.self,
            Move.self, Lock.self,
        ]
    )
}

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show no progress line on standard error.")
    var quiet = false

    /// Whether this run draws progress lines.
    var showsProgress: Bool { ProgressLine.enabled(quiet: quiet) }
}

/// Parses a size argument with lstore's own message on failure.
@Sendable func parseSize(_ text: String) throws -> ByteSize {
    do { return try ByteSize(parsing: text) } catch { throw ValidationError(error.message) }
}

/// Parses an age or timeout argument with lstore's own message on failure.
@Sendable func parseAge(_ text: String) throws -> Age {
    do { return try Age(parsing: text) } catch { throw ValidationError(error.message) }
}
#endif
