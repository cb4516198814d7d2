#if CLI
import ArgumentParser
import Foundation
import Glibc
import LocalStorage

/// `lstore ls ROOT [CONTEXT]`: the files stored in a context.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the files stored in a context.",
        discussion: """
            Names are sorted, one per line. Subcontexts, temp files of uploads in progress and \
            the storage's own files are not listed (see 'lstore du' for the contexts). A context \
            that does not exist is empty.

            -l prints size in bytes, modification time, last use (the later of the last store \
            and, for a storage with limits, the last read) and name. --json prints an array of \
            {"name", "size", "modified", "lastUsed"} with ISO 8601 dates in UTC.
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Argument(help: "The context to list ('' or '.' for the root, the default).")
    var context: String = ""

    @Flag(name: [.customShort("l"), .long], help: "Long format: size, modified, last used, name.")
    var long = false

    @Flag(name: .customLong("human-readable"), help: "With -l: sizes like 1.5 GiB.")
    var humanReadable = false

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let storage = try openStorage(root, create: false)
        let context = normalizedContext(self.context)
        if !long && !json {
            let names = try storage.listStoredFiles(context)
            Terminal.write(names.map { $0 + "\n" }.joined(), to: STDOUT_FILENO)
            return
        }
        let infos = try storage.listStoredFileInfo(context)
        if json {
            Terminal.write(try jsonText(infos.map(FileEntry.init)), to: STDOUT_FILENO)
            return
        }
        let sizes = infos.map { humanReadable ? formatBytes($0.size) : String($0.size) }
        let width = sizes.map(\.count).max() ?? 0
        var text = ""
        for (info, size) in zip(infos, sizes) {
            text +=
                "\(padLeft(size, width))  \(formatLocalDate(info.modificationDate))  "
                + "\(formatLocalDate(info.lastUsedDate))  \(info.name)\n"
        }
        Terminal.write(text, to: STDOUT_FILENO)
    }
}

/// A stored file in JSON output.
struct FileEntry: Encodable {
    var name: String
    var size: Int64
    var modified: String
    var lastUsed: String

    init(_ info: StoredFileInfo) {
        name = info.name
        size = info.size
        modified = formatISODate(info.modificationDate)
        lastUsed = formatISODate(info.lastUsedDate)
    }
}
#endif
