#if CLI
import ArgumentParser
import Foundation
import Glibc
import LocalStorage

/// `lstore prune ROOT --max-size 10G --max-age 30d [--max-files N] [--dry-run]`.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove files unused for too long, then the least recently used, until within limits.",
        discussion: """
            Removes every file unused for longer than --max-age, then the least recently used \
            until the root holds at most --max-size bytes and --max-files files (the library's \
            prune). A file used or replaced while prune runs is kept. Last use is the later of \
            the last store and, for a storage with limits, the last read.

            --dry-run removes nothing: it lists what would go, oldest use first (size, last \
            use, context/name), by the same rule.

              lstore prune /var/cache/app --max-size 10G --max-age 30d
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Option(
        name: .customLong("max-size"), help: ArgumentHelp("The most bytes to keep (e.g. 10G, 512MiB).", valueName: "size"),
        transform: parseSize)
    var maxSize: ByteSize?

    @Option(
        name: .customLong("max-age"), help: ArgumentHelp("The longest a file may go unused (e.g. 30d, 12h).", valueName: "age"),
        transform: parseAge)
    var maxAge: Age?

    @Option(name: .customLong("max-files"), help: ArgumentHelp("The most files to keep.", valueName: "count"))
    var maxFiles: Int?

    @Flag(name: .customLong("dry-run"), help: "Only list what would be removed.")
    var dryRun = false

    func validate() throws {
        if maxSize == nil && maxAge == nil && maxFiles == nil {
            throw ValidationError("give at least one limit: --max-size, --max-age or --max-files")
        }
        if let maxFiles, maxFiles < 0 { throw ValidationError("--max-files must not be negative") }
    }

    var limits: CacheLimits {
        CacheLimits(maxBytes: maxSize?.bytes, maxFiles: maxFiles, maxAge: maxAge?.duration)
    }

    func run() throws {
        let storage = try openStorage(root, create: false)
        if dryRun {
            try plan(storage)
            return
        }
        let progress = ProgressLine(enabled: common.showsProgress) { elapsed, _ in
            "pruning  (\(Int(elapsed))s)"
        }
        let report: PruneReport
        do {
            defer { progress.finish() }
            report = try storage.prune(limits)
        }
        Terminal.output(
            "removed \(files(report.removedFiles)) (\(formatBytes(report.removedBytes))); "
                + "\(files(report.remainingFiles)) (\(formatBytes(report.remainingBytes))) remain")
    }

    /// What prune would remove now, by the library's rule: expired files first, then the least
    /// recently used while over a limit; sorted by last use, so that once one file is neither
    /// expired nor needed for space, none after it is.
    private func plan(_ storage: LocalStorage) throws {
        let counter = Counter()
        let progress = ProgressLine(enabled: common.showsProgress) { elapsed, _ in
            scanLine(label: "scanning", files: counter.current, bytes: nil, elapsed: elapsed)
        }
        var all: [ContextFile]
        do {
            defer { progress.finish() }
            all = try storedFiles(in: storage, contexts: try walkContexts(root: storage.getRootPath()), counter: counter)
        }
        all.sort { $0.info.lastUsedDate < $1.info.lastUsedDate }
        var files = all.count
        var bytes = all.reduce(Int64(0)) { $0 + $1.info.size }
        let oldestKept = maxAge.map { Date(timeIntervalSinceNow: -Double($0.nanoseconds) / 1e9) }
        var removed: [ContextFile] = []
        for file in all {
            let expired = oldestKept.map { file.info.lastUsedDate < $0 } ?? false
            let over = (maxSize.map { bytes > $0.bytes } ?? false) || (maxFiles.map { files > $0 } ?? false)
            if !expired && !over { break }
            removed.append(file)
            files -= 1
            bytes -= file.info.size
        }
        let sizes = removed.map { String($0.info.size) }
        let width = sizes.map(\.count).max() ?? 0
        var text = ""
        for (file, size) in zip(removed, sizes) {
            text += "would remove  \(padLeft(size, width))  \(formatLocalDate(file.info.lastUsedDate))  \(file.path)\n"
        }
        let removedBytes = removed.reduce(Int64(0)) { $0 + $1.info.size }
        text +=
            "would remove \(self.files(removed.count)) (\(formatBytes(removedBytes))); "
            + "\(self.files(files)) (\(formatBytes(bytes))) would remain\n"
        Terminal.write(text, to: STDOUT_FILENO)
    }

    private func files(_ count: Int) -> String { "\(count) file\(count == 1 ? "" : "s")" }
}
#endif
