#if CLI
import ArgumentParser
import Glibc
import LocalStorage

/// `lstore du ROOT`: the files and bytes of every context, and the total.
struct DiskUsage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "du",
        abstract: "Show how many files and bytes each context holds, and the total.",
        discussion: """
            One line per context, '.' for the root itself: bytes, files, context. A context \
            counts only the files directly in it, not those of its subcontexts. Temp files of \
            uploads in progress and the storage's own files do not count.

            -s prints only the total, counted by the library's own walk (which also counts \
            files whose names are not valid UTF-8, which no context listing shows).
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Flag(name: .shortAndLong, help: "Only the total.")
    var summarize = false

    @Flag(name: .customLong("human-readable"), help: "Sizes like 1.5 GiB.")
    var humanReadable = false

    @Flag(help: "Print JSON: {\"contexts\": [{\"context\", \"files\", \"bytes\"}], \"total\": {\"files\", \"bytes\"}}.")
    var json = false

    func run() throws {
        let storage = try openStorage(root, create: false)
        let counter = Counter()
        let progress = ProgressLine(enabled: common.showsProgress) { elapsed, _ in
            scanLine(label: "scanning", files: counter.current, bytes: nil, elapsed: elapsed)
        }
        var rows: [UsageRow] = []
        let total: UsageRow
        do {
            defer { progress.finish() }
            if summarize {
                let usage = try storage.usage()
                total = UsageRow(context: nil, files: usage.files, bytes: usage.bytes)
            } else {
                for context in try walkContexts(root: storage.getRootPath()) {
                    let infos = try storage.listStoredFileInfo(context)
                    counter.add(Int64(infos.count))
                    rows.append(UsageRow(context: context, files: infos.count, bytes: infos.reduce(0) { $0 + $1.size }))
                }
                total = UsageRow(context: nil, files: rows.reduce(0) { $0 + $1.files }, bytes: rows.reduce(0) { $0 + $1.bytes })
            }
        }

        if json {
            Terminal.write(try jsonText(UsageDocument(contexts: summarize ? nil : rows, total: total)), to: STDOUT_FILENO)
            return
        }
        let lines = rows + [total]
        let sizes = lines.map { humanReadable ? formatBytes($0.bytes) : String($0.bytes) }
        let sizeWidth = sizes.map(\.count).max() ?? 0
        let countWidth = lines.map { String($0.files).count }.max() ?? 0
        var text = ""
        for (row, size) in zip(lines, sizes) {
            let name = row.context.map { $0.isEmpty ? "." : $0 } ?? "total"
            text += "\(padLeft(size, sizeWidth))  \(padLeft(String(row.files), countWidth))  \(name)\n"
        }
        Terminal.write(text, to: STDOUT_FILENO)
    }
}

/// One line of `du`: a context's figures, or the total (no context).
private struct UsageRow: Encodable {
    var context: String?
    var files: Int
    var bytes: Int64
}

/// `du --json`'s document.
private struct UsageDocument: Encodable {
    var contexts: [UsageRow]?
    var total: UsageRow
}
#endif
