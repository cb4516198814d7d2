#if CLI
import ArgumentParser
import LocalStorage

/// `lstore mv ROOT CONTEXT NAME SOURCE`: moves a file into the storage.
struct Move: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mv",
        abstract: "Move a file into the storage under a name.",
        discussion: """
            On the root's file system the file is renamed in, no byte copied; from another one \
            it is copied kernel-side and then removed. Atomic like 'put': readers see the old \
            version or the new one. When the move fails, SOURCE is left as it was.
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory (created if missing).")
    var root: String

    @Argument(help: "The context to store in ('' or '.' for the root).")
    var context: String

    @Argument(help: "The name to store under.")
    var name: String

    @Argument(help: "The file to move in; it must be a regular file, not a symlink.")
    var source: String

    func run() throws {
        let storage = try openStorage(root, create: true)
        try storage.uploadFile(movingFileAt: source, fileName: name, context: normalizedContext(context))
    }
}
#endif
