#if CLI
import ArgumentParser
import Glibc
import LocalStorage

/// `lstore verify ROOT [CONTEXT] [--remove-corrupt]`: checks stored objects and arrays.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the checksums of the objects and arrays stored in a root or context.",
        discussion: """
            Reads every file of the context and its subcontexts (the whole root without \
            CONTEXT). Files stored with uploadObject or uploadArray carry a header with \
            checksums: each is checked, and every damaged one is printed as 'corrupted \
            <context/name>: <reason>'. Files stored as raw bytes carry no checksum and are only \
            counted. A last line sums up. The check does not count as a use of the files.

            --remove-corrupt removes each damaged file, after checking it once more just before; \
            it prints 'removed <context/name>'. The exit status is 4 when any file was damaged.
            """
    )

    @OptionGroup var common: CommonOptions

    @Argument(help: "The storage root directory.")
    var root: String

    @Argument(help: "The context to check, with its subcontexts ('' or '.' for the root, the default).")
    var context: String = ""

    @Flag(name: .customLong("remove-corrupt"), help: "Remove the damaged files.")
    var removeCorrupt = false

    @Flag(name: .shortAndLong, help: "Print a line for every file: ok, raw or corrupted.")
    var verbose = false

    func run() throws {
        let storage = try openStorage(root, create: false)
        let counter = Counter()
        let checked = Counter()
        var total: Int64 = 0
        let scan = ProgressLine(enabled: common.showsProgress) { elapsed, _ in
            scanLine(label: "scanning", files: counter.current, bytes: nil, elapsed: elapsed)
        }
        let files: [ContextFile]
        do {
            defer { scan.finish() }
            let contexts = try walkContexts(root: storage.getRootPath(), from: normalizedContext(context))
            files = try storedFiles(in: storage, contexts: contexts, counter: counter)
        }
        for file in files { total += file.info.size }
        let totalBytes = total
        let progress = ProgressLine(enabled: common.showsProgress) { elapsed, width in
            transferLine(label: "verify", done: checked.current, total: totalBytes, elapsed: elapsed, width: width)
        }
        var tally = Tally()
        var failure: ExitStatus?
        do {
            defer { progress.finish() }
            for file in files {
                defer { checked.add(file.info.size) }
                let result: ObjectVerification
                do {
                    result = try storage.verifyStoredObject(file.info.name, context: file.context)
                } catch let error as LocalStorageError where error.code == .notFound {
                    continue  // removed since the listing
                } catch let error as LocalStorageError {
                    let reported = Failure(error)
                    progress.interject("lstore: \(reported.message)\n", to: STDERR_FILENO)
                    failure = failure ?? reported.status
                    continue
                }
                tally.count(result)
                var lines: [String] = []
                switch result {
                case .object, .array:
                    if verbose { lines.append("ok  \(file.path): \(result)") }
                case .notAnObject:
                    if verbose { lines.append("raw  \(file.path)") }
                case .corrupted(let reason):
                    lines.append("corrupted  \(file.path): \(reason)")
                    if removeCorrupt, try removeIfStillCorrupt(file, storage) {
                        tally.removed += 1
                        lines.append("removed  \(file.path)")
                    }
                }
                if !lines.isEmpty { progress.interject(lines.map { $0 + "\n" }.joined(), to: STDOUT_FILENO) }
            }
        }
        Terminal.output(tally.summary)
        if tally.corrupted > 0 { throw ExitCode(ExitStatus.corrupted.rawValue) }
        if let failure { throw ExitCode(failure.rawValue) }
    }

    /// Removes a damaged file if a second check still finds it damaged (it may have been
    /// replaced since the first). Returns whether it was removed.
    private func removeIfStillCorrupt(_ file: ContextFile, _ storage: LocalStorage) throws -> Bool {
        do {
            guard case .corrupted = try storage.verifyStoredObject(file.info.name, context: file.context) else { return false }
            try storage.deleteFile(file.info.name, context: file.context)
            return true
        } catch let error as LocalStorageError where error.code == .notFound {
            return false
        }
    }
}

/// What a verification pass found.
private struct Tally {
    var objects = 0
    var arrays = 0
    var raw = 0
    var corrupted = 0
    var removed = 0

    mutating func count(_ result: ObjectVerification) {
        switch result {
        case .object: objects += 1
        case .array: arrays += 1
        case .notAnObject: raw += 1
        case .corrupted: corrupted += 1
        }
    }

    /// "checked 12 files: 8 intact (5 objects, 3 arrays), 1 corrupted (1 removed), 3 raw (no checksum)".
    var summary: String {
        let files = objects + arrays + raw + corrupted
        var text =
            "checked \(files) file\(files == 1 ? "" : "s"): \(objects + arrays) intact "
            + "(\(objects) object\(objects == 1 ? "" : "s"), \(arrays) array\(arrays == 1 ? "" : "s")), \(corrupted) corrupted"
        if removed > 0 { text += " (\(removed) removed)" }
        return text + ", \(raw) raw (no checksum)"
    }
}
#endif
