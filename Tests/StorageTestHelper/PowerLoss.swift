// The power-loss suite's writer: random uploads (every path), deletes and new contexts through
// the public API, each one logged before it starts and acknowledged after it returns, in a file
// outside the disk image that the test cuts.
import Foundation
import Glibc
import LocalStorage
import StorageTestSupport

/// What the writer does; the test replays the log with the same vocabulary.
/// (The engine's objects, arrays, locks and limits are not used here yet; RELIABILITY.md says so.)
enum PowerLossOperation: String, CaseIterable {
    case memory, handleDirect, handleBuffered, writer, move, delete
}

/// The names the writer cycles through, in contexts at three depths ("" is the root itself).
/// New contexts are made on the fly as well ("f<n>" and "fresh/<n>/c").
let powerLossNames = ["alpha", "beta", "gamma", "delta"]
let powerLossContexts = ["", "pl", "pl/deep"]

/// An append-only log of whole lines, one write(2) each (O_APPEND: a reader never sees two
/// records interleaved, at worst the tail of the last one missing).
struct AcknowledgementLog {
    let fd: CInt

    init(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { fail("cannot open the acknowledgement log \(path): errno \(errno)") }
    }

    func record(_ fields: String...) {
        let line = Array((fields.joined(separator: " ") + "\n").utf8)
        var offset = 0
        while offset < line.count {
            let written = line.withUnsafeBytes { bytes in
                bytes.baseAddress.map { Glibc.write(fd, $0 + offset, line.count - offset) } ?? -1
            }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { fail("cannot write the acknowledgement log: errno \(errno)") }
            offset += written
        }
    }
}

/// `powerloss-writer <root> <workdir> <log> <seed> <noSync|fileSync|fullSync>`: runs until
/// killed. Log records, with `t` in CLOCK_MONOTONIC nanoseconds:
///
///     B <t> <id> <operation> <context> <name> <length> <checksum>   before the call
///     A <t> <id>                                                     after it returned
///     E <t> <id> <error>                                             it threw (the writer exits)
///
/// A context is written `-` for the root; a delete has `-` for length and checksum. `B` is
/// written before the call starts, `A` only once it has returned: an `A` earlier than the cut
/// is a promise the disk image must keep.
func powerLossWriter(_ arguments: [String]) throws {
    guard arguments.count == 5, let seed = UInt64(arguments[3]) else {
        fail("usage: powerloss-writer <root> <workdir> <log> <seed> <noSync|fileSync|fullSync>")
    }
    let (root, work, log) = (arguments[0], arguments[1], AcknowledgementLog(path: arguments[2]))
    let durability: Durability
    switch arguments[4] {
    case "noSync": durability = .noSync
    case "fileSync": durability = .fileSync
    case "fullSync": durability = .fullSync
    default: fail("unknown durability \(arguments[4])")
    }
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    // Orphans are the test's to sweep, on each cut.
    let storage = try LocalStorage(storagePath: root, durability: durability, removeOrphanedTempFiles: false)
    var generator = SeededGenerator(seed: seed)
    var stored = Set<String>()  // "context/name" keys this writer believes exist
    var freshContexts = 0
    log.record("R", "\(monotonicNow())", "\(getpid())")
    var id = 0
    while true {
        id += 1
        var context = powerLossContexts[Int.random(in: 0..<powerLossContexts.count, using: &generator)]
        var name = powerLossNames[Int.random(in: 0..<powerLossNames.count, using: &generator)]
        var operation = PowerLossOperation.allCases[Int.random(in: 0..<PowerLossOperation.allCases.count, using: &generator)]
        if operation == .delete {
            // Delete something that exists, else upload instead.
            if let key = stored.randomElement(using: &generator) {
                (context, name) = splitKey(key)
            } else {
                operation = .memory
            }
        } else if Int.random(in: 0..<8, using: &generator) == 0 {
            // A context that does not exist yet: one or three new directories.
            freshContexts += 1
            context = freshContexts % 2 == 0 ? "f\(freshContexts)" : "fresh/\(freshContexts)/c"
        }
        let key = context.isEmpty ? name : context + "/" + name
        let contextField = context.isEmpty ? "-" : context
        if operation == .delete {
            log.record("B", "\(monotonicNow())", "\(id)", operation.rawValue, contextField, name, "-", "-")
            do {
                try storage.deleteFile(name, context: context)
            } catch {
                log.record("E", "\(monotonicNow())", "\(id)", "\(error)".replacingOccurrences(of: "\n", with: " "))
                exit(3)
            }
            log.record("A", "\(monotonicNow())", "\(id)")
            stored.remove(key)
            continue
        }
        // Mostly small versions; one in ten spans several 1 MiB chunks and is preallocated.
        let length =
            Int.random(in: 0..<10, using: &generator) == 0
            ? Int.random(in: 1_000_000...3_000_000, using: &generator)
            : Int.random(in: 0...65_536, using: &generator)
        let version = SelfVerifying.make(seed: generator.next(), length: length)
        let checksum = version[12..<20].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        // Sources live next to the root, on the same file system, so a move links and a direct
        // ingest takes the file system's fastest path (a reflink on XFS).
        let scratch = "\(work)/src-\(id)"
        log.record(
            "B", "\(monotonicNow())", "\(id)", operation.rawValue, contextField, name, "\(length)",
            String(UInt64(littleEndian: checksum), radix: 16))
        do {
            try store(version, as: name, in: context, via: operation, storage: storage, scratch: scratch)
        } catch {
            log.record("E", "\(monotonicNow())", "\(id)", "\(error)".replacingOccurrences(of: "\n", with: " "))
            exit(3)
        }
        log.record("A", "\(monotonicNow())", "\(id)")
        stored.insert(key)
    }
}

/// `powerloss-open <root> <log>`: opens a storage with `.fullSync` on a root that does not exist
/// yet (so it is made like `mkdir -p`, each new directory's parent fsynced), logs `R` once the
/// initializer returned, and does nothing more until killed: a cut then shows whether the root
/// it made is durable.
func powerLossOpener(_ arguments: [String]) throws {
    guard arguments.count == 2 else { fail("usage: powerloss-open <root> <log>") }
    let log = AcknowledgementLog(path: arguments[1])
    _ = try LocalStorage(storagePath: arguments[0], durability: .fullSync, removeOrphanedTempFiles: false)
    log.record("R", "\(monotonicNow())", "\(getpid())")
    while true { pause() }
}

/// One upload through `operation`'s path; `scratch` is where a handle's or a move's source goes.
private func store(
    _ version: [UInt8], as name: String, in context: String, via operation: PowerLossOperation,
    storage: LocalStorage, scratch: String
) throws {
    switch operation {
    case .memory:
        try storage.uploadFile(file: Data(version), fileName: name, context: context)
    case .handleDirect, .handleBuffered:
        writeSource(version, at: scratch)
        guard let handle = FileHandle(forReadingAtPath: scratch) else { fail("cannot open \(scratch)") }
        defer {
            try? handle.close()
            unlink(scratch)
        }
        try storage.uploadFile(file: handle, fileName: name, context: context, directStream: operation == .handleDirect)
    case .writer:
        try storage.withFileWriter(fileName: name, context: context) { writer in
            let third = version.count / 3
            try writer.write(Array(version[..<third]))
            try writer.write(Array(version[third..<(2 * third)]))
            try writer.write(Array(version[(2 * third)...]))
        }
    case .move:
        // Written and closed, not fsynced: making it durable is the engine's job.
        writeSource(version, at: scratch)
        try storage.uploadFile(movingFileAt: scratch, fileName: name, context: context)
    case .delete:
        fail("a delete is not an upload")
    }
}

private func writeSource(_ bytes: [UInt8], at path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { fail("cannot create \(path): errno \(errno)") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in
            buffer.baseAddress.map { Glibc.write(fd, $0 + offset, bytes.count - offset) } ?? -1
        }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { fail("cannot write \(path): errno \(errno)") }
        offset += written
    }
}

private func splitKey(_ key: String) -> (context: String, name: String) {
    guard let slash = key.lastIndex(of: "/") else { return ("", key) }
    return (String(key[..<slash]), String(key[key.index(after: slash)...]))
}
