#if CLI
import ArgumentParser
import Glibc
import LocalStorage

/// `lstore info ROOT CONTEXT NAME`: size and dates of one stored file.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the size and dates of a stored file, without reading it.",
        discussion: "'lstore verify' checks what an object or array holds."
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Argument(help: "The context ('' or '.' for the root).")
    var context: String

    @Argument(help: "The stored name.")
    var name: String

    @Flag(help: "Print JSON: {\"name\", \"context\", \"path\", \"size\", \"modified\", \"lastUsed\"}.")
    var json = false

    func run() throws {
        let storage = try openStorage(root, create: false)
        let context = normalizedContext(self.context)
        let info = try storage.fileInfo(name, context: context)
        let path = storage.getRootPath() + "/" + displayPath(context, info.name)
        if json {
            let entry = InfoEntry(
                name: info.name, context: context, path: path, size: info.size,
                modified: formatISODate(info.modificationDate), lastUsed: formatISODate(info.lastUsedDate))
            Terminal.write(try jsonText(entry), to: STDOUT_FILENO)
            return
        }
        Terminal.write(
            """
            name:      \(info.name)
            context:   \(context.isEmpty ? "." : context)
            path:      \(path)
            size:      \(info.size) bytes (\(formatBytes(info.size)))
            modified:  \(formatLocalDate(info.modificationDate))
            last used: \(formatLocalDate(info.lastUsedDate))

            """, to: STDOUT_FILENO)
    }
}

/// `info --json`'s document.
private struct InfoEntry: Encodable {
    var name: String
    var context: String
    var path: String
    var size: Int64
    var modified: String
    var lastUsed: String
}
#endif
