#if CLI
import ArgumentParser
import Foundation
import Glibc
import LocalStorage

/// `lstore get ROOT CONTEXT NAME`: writes a stored file to standard output.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a stored file to standard output.",
        discussion: """
            The bytes move kernel-side (splice to a pipe, copy_file_range to a file, sendfile \
            to a socket), unless a progress line is shown for a pipe, which then goes through \
            one 1 MiB buffer. A file replaced meanwhile is written whole, in the version opened.

              lstore get /var/cache/app runs/42 result.bin | consumer
              lstore get /var/cache/app images logo.png > logo.png
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Argument(help: "The context ('' or '.' for the root).")
    var context: String

    @Argument(help: "The stored name.")
    var name: String

    func run() throws {
        do {
            try copyOut()
        } catch let error as LocalStorageError
            where error.operation == .export && Self.destinationCodes.contains(error.code)
        {
            // The export's only writes go to standard output: the failure is there, not in the
            // stored file the error names.
            throw Failure(.failure, "standard output: \(error.message)" + (error.syscall.map { " (\($0))" } ?? ""))
        }
    }

    /// The codes of an export failure that concern the destination.
    private static let destinationCodes: Set<LocalStorageError.Code> = [
        .noSpace, .quotaExceeded, .fileTooLarge, .destinationUnwritable,
    ]

    private func copyOut() throws {
        let storage = try openStorage(root, create: false)
        let context = normalizedContext(self.context)
        let output = STDOUT_FILENO
        let regular = isRegularFile(fileStatus(output))
        guard common.showsProgress else {
            try storage.downloadFile(name, context: context, to: FileHandle.standardOutput)
            return
        }

        let label = "get \(displayPath(context, name))"
        if regular {
            let total = try storage.fileInfo(name, context: context).size
            let start = currentOffset(output)
            let progress = ProgressLine(enabled: true) { elapsed, width in
                transferLine(label: label, done: currentOffset(output) - start, total: total, elapsed: elapsed, width: width)
            }
            defer { progress.finish() }
            try storage.downloadFile(name, context: context, to: FileHandle.standardOutput)
        } else {
            // A pipe or socket: the kernel-side path would give no progress to watch.
            let reader = try storage.openReader(name, context: context, chunkSize: streamChunk)
            let total = Int64(reader.size)
            let counter = Counter()
            let progress = ProgressLine(enabled: true) { elapsed, width in
                transferLine(label: label, done: counter.current, total: total, elapsed: elapsed, width: width)
            }
            defer { progress.finish() }
            try reader.forEachChunk { chunk in
                try chunk.withUnsafeBytes { bytes in try writeAll(output, bytes, what: "standard output") }
                counter.add(Int64(chunk.count))
            }
        }
    }
}
#endif
