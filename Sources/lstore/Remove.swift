#if CLI
import ArgumentParser
import LocalStorage

/// `lstore rm ROOT CONTEXT NAME...`: removes stored files.
struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove stored files.",
        discussion: """
            Every name is tried; the exit status is that of the first failure. A reader that \
            has a file open reads it whole.
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Argument(help: "The context ('' or '.' for the root).")
    var context: String

    @Argument(help: "The stored names.")
    var names: [String]

    @Flag(name: .shortAndLong, help: "A name that is not stored is no error.")
    var force = false

    func validate() throws {
        if names.isEmpty { throw ValidationError("give at least one name to remove") }
    }

    func run() throws {
        let storage = try openStorage(root, create: false)
        let context = normalizedContext(self.context)
        var firstFailure: ExitStatus?
        for name in names {
            do {
                try storage.deleteFile(name, context: context)
            } catch let error as LocalStorageError where force && error.code == .notFound {
                continue
            } catch let error as LocalStorageError {
                let failure = Failure(error)
                Terminal.error(failure.message)
                firstFailure = firstFailure ?? failure.status
            }
        }
        if let firstFailure { throw ExitCode(firstFailure.rawValue) }
    }
}
#endif
