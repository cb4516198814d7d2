// The power-loss suite's writer: random uploads (every path), deletes and new contexts through
// the public API, and the cache's calls (objects, arrays, an upload under a lock, get-or-compute,
// and with limits the usage counter and prune), each one logged before it starts and
// acknowledged after it returns, in a file outside the disk image that the test cuts.
import Foundation
import Glibc
import LocalStorage
import StorageTestSupport

/// What the writer does; the test replays the log with the same vocabulary.
enum PowerLossOperation: String, CaseIterable {
    case memory, handleDirect, handleBuffered, writer, move, delete
    /// `uploadObject` of a `PowerLossObject` (binary, or JSON for small ones).
    case object
    /// `uploadArray` of `[UInt64]`.
    case array
    /// `uploadObject` inside `withLock`.
    case locked
    /// `cachedObject` on a missing entry: computed under the entry's lock and stored.
    case cached
    /// `cachedObject` on a stored entry: a hit, which must return the stored value (no change).
    case cachedHit
    /// With limits: `usage()`, then `prune` to three quarters of the files (logged name `-`:
    /// it may remove any stored file, least recently used first).
    case prune

    /// The calls on plain files (3 calls in 4 are one of these). A delete is quick, so it has
    /// three shares: cuts must land inside deletes too, and the cache's calls took some of them.
    static let fileCalls: [PowerLossOperation] = [.memory, .handleDirect, .handleBuffered, .writer, .move, .delete, .delete, .delete]
    /// The cache's calls that store (1 in 4).
    static let cacheCalls: [PowerLossOperation] = [.object, .array, .locked, .cached]
}

/// The names the writer cycles through, in contexts at three depths ("" is the root itself).
/// New contexts are made on the fly as well ("f<n>" and "fresh/<n>/c").
let powerLossNames = ["alpha", "beta", "gamma", "delta"]
let powerLossContexts = ["", "pl", "pl/deep"]
/// The cache's names: the prefix says what a name holds, for the test's checks.
let powerLossObjectNames = ["obj-a", "obj-b"]
let powerLossArrayNames = ["arr-a", "arr-b"]
let powerLossMemoNames = ["memo-a", "memo-b"]
/// The lock `.locked` holds while it uploads.
let powerLossLockName = "writer"

// The stored object (`PowerLossObject`) and its values are in StorageTestSupport, shared with
// the suite that decodes them.

/// An array version: its seed, then `count - 1` values that follow from it (so a decoded array
/// names its own version).
func powerLossArray(seed: UInt64, count: Int) -> [UInt64] {
    [seed] + powerLossValues(seed: seed, count: max(0, count - 1))
}

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

/// `powerloss-writer <root> <workdir> <log> <seed> <noSync|fileSync|fullSync> [limits]`: runs
/// until killed. Log records, with `t` in CLOCK_MONOTONIC nanoseconds:
///
///     B <t> <id> <operation> <context> <name> <length> <checksum>   before the call
///     A <t> <id>                                                     after it returned
///     E <t> <id> <error>                                             it threw (the writer exits)
///
/// A context is written `-` for the root; a delete has `-` for length and checksum, a prune `-`
/// for context, name, length and checksum. An object or array version is named by its element
/// count (length) and seed (checksum). `B` is written before the call starts, `A` only once it
/// has returned: an `A` earlier than the cut is a promise the disk image must keep.
///
/// With `limits`, the storage is opened with `CacheLimits(maxBytes: 1 TiB)`: every upload and
/// delete updates the usage counter, but no upload trims (the limit is never reached), so files
/// go only by the writer's own deletes and prunes, which the log records.
func powerLossWriter(_ arguments: [String]) throws {
    guard arguments.count == 5 || (arguments.count == 6 && arguments[5] == "limits"), let seed = UInt64(arguments[3]) else {
        fail("usage: powerloss-writer <root> <workdir> <log> <seed> <noSync|fileSync|fullSync> [limits]")
    }
    let (root, work, log) = (arguments[0], arguments[1], AcknowledgementLog(path: arguments[2]))
    let durability: Durability
    switch arguments[4] {
    case "noSync": durability = .noSync
    case "fileSync": durability = .fileSync
    case "fullSync": durability = .fullSync
    default: fail("unknown durability \(arguments[4])")
    }
    let limited = arguments.count == 6
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    // Orphans are the test's to sweep, on each cut.
    let storage = try LocalStorage(
        storagePath: root, durability: durability, removeOrphanedTempFiles: false,
        limits: limited ? CacheLimits(maxBytes: 1 << 40) : nil)
    var generator = SeededGenerator(seed: seed)
    var stored = Set<String>()  // "context/name" keys this writer believes exist
    var memos: [String: PowerLossObject] = [:]  // what each stored memo entry holds
    var freshContexts = 0
    log.record("R", "\(monotonicNow())", "\(getpid())")
    var id = 0

    /// Logs `B`, runs `body`, logs `A` (or `E` and exits: the test reports the writer's error).
    func call(
        _ operation: PowerLossOperation, _ context: String, _ name: String, _ version: (length: Int, checksum: UInt64)?,
        _ body: () throws -> Void
    ) {
        id += 1
        log.record(
            "B", "\(monotonicNow())", "\(id)", operation.rawValue, context.isEmpty ? "-" : context, name,
            version.map { "\($0.length)" } ?? "-", version.map { String($0.checksum, radix: 16) } ?? "-")
        do {
            try body()
        } catch {
            log.record("E", "\(monotonicNow())", "\(id)", "\(error)".replacingOccurrences(of: "\n", with: " "))
            exit(3)
        }
        log.record("A", "\(monotonicNow())", "\(id)")
    }

    while true {
        var context = powerLossContexts[Int.random(in: 0..<powerLossContexts.count, using: &generator)]
        var operation: PowerLossOperation
        if limited && Int.random(in: 0..<100, using: &generator) == 0 {
            operation = .prune
        } else if Int.random(in: 0..<4, using: &generator) == 0 {
            operation = PowerLossOperation.cacheCalls[Int.random(in: 0..<PowerLossOperation.cacheCalls.count, using: &generator)]
        } else {
            operation = PowerLossOperation.fileCalls[Int.random(in: 0..<PowerLossOperation.fileCalls.count, using: &generator)]
        }
        let names: [String] =
            switch operation {
            case .object, .locked: powerLossObjectNames
            case .array: powerLossArrayNames
            case .cached, .cachedHit: powerLossMemoNames
            default: powerLossNames
            }
        var name = names[Int.random(in: 0..<names.count, using: &generator)]
        if operation == .prune {
            call(.prune, "", "-", nil) {
                let usage = try storage.usage()
                try storage.prune(CacheLimits(maxFiles: usage.files * 3 / 4))
            }
            // What the prune removed is not in the log; the writer learns it here, to delete
            // and hit only what exists.
            for key in stored {
                let (context, name) = splitKey(key)
                if try !storage.checkIfExists(name, context: context) {
                    stored.remove(key)
                    memos[key] = nil
                }
            }
            continue
        }
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
        if operation == .delete {
            call(.delete, context, name, nil) { try storage.deleteFile(name, context: context) }
            stored.remove(key)
            memos[key] = nil
            continue
        }
        // Mostly small versions; one in ten spans several 1 MiB chunks and is preallocated. The
        // cache's values cost more CPU to make and encode (this is a debug build, on a machine
        // the cuts share), so they are smaller: up to 16 KiB, and one in twenty of 1 to 3 MB.
        let cacheCall = PowerLossOperation.cacheCalls.contains(operation)
        let length =
            Int.random(in: 0..<(cacheCall ? 20 : 10), using: &generator) == 0
            ? Int.random(in: 1_000_000...3_000_000, using: &generator)
            : Int.random(in: 0...(cacheCall ? 16_384 : 65_536), using: &generator)
        switch operation {
        case .object, .array, .locked, .cached:
            // The same sizes, in 8-byte elements; the seed names the version.
            let count = max(1, length / 8)
            let elementSeed = generator.next()
            let version = (length: count, checksum: elementSeed)
            // Made before the call is logged: the call's time is the engine's.
            let value = PowerLossObject(seed: elementSeed, count: operation == .array ? 0 : count)
            let elements = operation == .array ? powerLossArray(seed: elementSeed, count: count) : []
            if operation == .cached, let current = memos[key] {
                // Stored: half the time a hit (which must return it), else deleted first so that
                // the entry is computed again.
                if Bool.random(using: &generator) {
                    call(.cachedHit, context, name, (current.values.count, current.seed)) {
                        let got = try storage.cachedObject(PowerLossObject.self, fileName: name, context: context) {
                            fail("cachedObject computed \(key), which is stored")
                        }
                        if got != current { fail("cachedObject returned \(got.label) for \(key), which holds \(current.label)") }
                    }
                    continue
                }
                call(.delete, context, name, nil) { try storage.deleteFile(name, context: context) }
                stored.remove(key)
                memos[key] = nil
            }
            call(operation, context, name, version) {
                switch operation {
                case .array:
                    _ = try storage.uploadArray(elements, fileName: name, context: context)
                case .locked:
                    try storage.withLock(powerLossLockName, context: context, timeout: .seconds(30)) {
                        _ = try storage.uploadObject(value, fileName: name, context: context)
                    }
                case .cached:
                    let computed = value
                    var ran = false
                    let got = try storage.cachedObject(PowerLossObject.self, fileName: name, context: context) {
                        ran = true
                        return computed
                    }
                    if !ran || got != computed { fail("cachedObject did not compute \(key), which was missing") }
                    memos[key] = computed
                default:
                    // JSON for a third of the small ones: `downloadObject` reads either.
                    let encoding: ObjectEncoding = count < 2_000 && Int.random(in: 0..<3, using: &generator) == 0 ? .json : .binary
                    _ = try storage.uploadObject(value, fileName: name, context: context, encoding: encoding)
                }
            }
            stored.insert(key)
            continue
        default:
            break
        }
        let version = SelfVerifying.make(seed: generator.next(), length: length)
        let checksum = version[12..<20].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        // Sources live next to the root, on the same file system, so a move links and a direct
        // ingest takes the file system's fastest path (a reflink on XFS).
        let scratch = "\(work)/src-\(id + 1)"
        call(operation, context, name, (length, UInt64(littleEndian: checksum))) {
            try store(version, as: name, in: context, via: operation, storage: storage, scratch: scratch)
        }
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
    default:
        fail("\(operation) is not an upload of a file")
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
