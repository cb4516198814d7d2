#if CLI
import ArgumentParser
import Foundation
import Glibc
import LocalStorage

/// `lstore put ROOT CONTEXT NAME [FILE]`: stores a file or standard input, atomically.
struct Put: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store a file, or standard input, under a name.",
        discussion: """
            The content is streamed, never held in memory: kernel-side (copy_file_range or a \
            reflink from a file, splice from a pipe) unless a progress line is shown for a pipe, \
            which then goes through one 1 MiB buffer. The new version replaces the old one in one \
            rename: readers see one or the other, and a failed put leaves the old one.

              producer | lstore put /var/cache/app runs/42 result.bin
              lstore put /var/cache/app images logo.png ./logo.png
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory (created if missing).")
    var root: String

    @Argument(help: "The context to store in ('' or '.' for the root).")
    var context: String

    @Argument(help: "The name to store under.")
    var name: String

    @Argument(help: "The file to store; standard input if absent or '-'.")
    var file: String?

    func run() throws {
        let storage = try openStorage(root, create: true)
        let context = normalizedContext(self.context)
        let source = try openSource()
        let handle = FileHandle(fileDescriptor: source, closeOnDealloc: file != nil && file != "-")
        let status = fileStatus(source)
        let what = sourceName(file)
        if let status, status.st_mode & S_IFMT == S_IFDIR {
            throw Failure(.invalidInput, "\(what): is a directory")
        }

        let counter = Counter()
        let regular = isRegularFile(status)
        let start = regular ? currentOffset(source) : 0
        let total = regular ? status.map { max(0, Int64($0.st_size) - start) } : nil
        let label = "put \(displayPath(context, name))"
        let progress = ProgressLine(enabled: common.showsProgress) { elapsed, width in
            let done = regular ? currentOffset(source) - start : counter.current
            return transferLine(label: label, done: done, total: total, elapsed: elapsed, width: width)
        }
        defer { progress.finish() }

        if common.showsProgress && !regular {
            // A pipe or socket: the kernel-side path would give no progress to watch.
            try storage.withFileWriter(fileName: name, context: context) { writer in
                try readToEnd(source, what: what) { bytes in
                    try writer.write(contentsOf: bytes)
                    counter.add(Int64(bytes.count))
                }
            }
        } else {
            try storage.uploadFile(file: handle, fileName: name, context: context, directStream: true)
        }
    }

    /// The descriptor to read: FILE opened read-only, or standard input.
    private func openSource() throws -> CInt {
        guard let file, file != "-" else { return STDIN_FILENO }
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw Failure(code == ENOENT ? .notFound : .failure, "\(file): cannot open: \(String(cString: strerror(code)))")
        }
        return fd
    }
}
#endif
