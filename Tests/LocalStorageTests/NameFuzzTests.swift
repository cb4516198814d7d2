// Random byte-string names and contexts against a model of the store.
//
// Names and contexts are drawn from hostile material: NUL, `/`, `.`, `..`, absolute paths, the
// reserved temp prefix, components around NAME_MAX, contexts around PATH_MAX, invalid UTF-8 (which
// String(decoding:) turns into U+FFFD), random Unicode scalars (combining marks, prepend
// characters, joiners, bidi controls) and a small pool of ordinary names, so that stored names
// and context directories collide often. Every call's outcome is predicted by a byte-level model
// of the documented rules and of the file system, and must match exactly:
//
// - a name or context the rules reject: `.invalidName`, before any syscall (none is counted by
//   the fault injector, and the error has no syscall and no errno);
// - no path is too long: past PATH_MAX the engine walks component by component, so contexts of
//   any depth work for every operation;
// - `.notFound` (ENOENT): download or delete of a name never stored (or since deleted), delete in
//   a context that does not exist;
// - `.notADirectory` (ENOTDIR): a context component is a stored file (any operation but exists,
//   which answers false);
// - `.notARegularFile`: the name is a context directory (download: found by fstat, no errno;
//   upload: renameat's EISDIR; delete: unlinkat's EISDIR);
// - otherwise success, with exactly the model's content, listing and existence.
//
// So the allowed errors are, per operation, exactly: upload {invalidName, notADirectory,
// notARegularFile}; download {invalidName, notFound, notADirectory, notARegularFile}; exists
// {invalidName} (a missing name, a missing context or one through a file is just false); delete
// {invalidName, notFound, notADirectory, notARegularFile}; list {invalidName, notADirectory} (a
// missing context lists as empty). Each comes with its errno, and only where the model says so.
// No other error is allowed. Afterwards the tree under the root is exactly the model (no temp
// files), and outside the root nothing changed: the sentinel next to the root keeps its inode
// and bytes, and the scratch directory holds only the root and the sentinel.
import Foundation
import Glibc
import Testing

@testable import LocalStorage

@Suite struct NameFuzzTests {
    static let operationsPerShard = soakCount("LOCALSTORAGE_FUZZ_CALLS_PER_SHARD", default: 30_000)

    /// LOCALSTORAGE_SEED replays a run; otherwise a fresh seed, printed.
    static let baseSeed: UInt64 = {
        let seed = ProcessInfo.processInfo.environment["LOCALSTORAGE_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        print("NameFuzzTests: seed \(seed) (replay with LOCALSTORAGE_SEED=\(seed))")
        return seed
    }()

    /// Four shards of 30,000 calls (seeds base...base+3), so both cores work.
    @Test(arguments: 0..<4)
    func randomNamesAndContextsStayInsideTheRoot(_ shard: Int) throws {
        let seed = Self.baseSeed &+ UInt64(shard)
        let scratch = Scratch()
        let sentinelPath = scratch.at("sentinel")
        let sentinelBytes = Data("sentinel \(seed)".utf8)
        write(sentinelBytes, to: sentinelPath)
        var before = stat()
        try #require(stat(sentinelPath, &before) == 0)
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync)

        var fuzz = NameFuzzer(seed: seed, scratchPath: scratch.path)
        var model = StoreModel()
        var report = FuzzReport(seed: seed, shard: shard)

        for index in 0..<Self.operationsPerShard {
            let nameBytes = fuzz.name()
            let contextBytes = fuzz.context()
            // What the API really receives; invalid UTF-8 became U+FFFD here.
            let name = String(decoding: nameBytes, as: UTF8.self)
            let context = String(decoding: contextBytes, as: UTF8.self)
            let operation = fuzz.operation()
            let label = {
                "#\(index) \(operation) name \(StoreModel.show(Array(name.utf8))) context \(StoreModel.show(Array(context.utf8)))"
            }
            switch operation {
            case .upload:
                let content = fuzz.content()
                report.check(label(), model.upload(Array(name.utf8), content, in: Array(context.utf8)), ==) {
                    try storage.uploadFile(file: content, fileName: name, context: context)
                    return true
                }
            case .download:
                report.check(label(), model.download(Array(name.utf8), in: Array(context.utf8)), ==) {
                    [UInt8](try storage.downloadFile(name, context: context))
                }
            case .exists:
                report.check(label(), model.exists(Array(name.utf8), in: Array(context.utf8)), ==) {
                    try storage.checkIfExists(name, context: context)
                }
            case .delete:
                report.check(label(), model.delete(Array(name.utf8), in: Array(context.utf8)), ==) {
                    try storage.deleteFile(name, context: context)
                    return true
                }
            case .list:
                report.check(label(), model.list(Array(context.utf8)), StoreModel.sameListing) {
                    try storage.listStoredFiles(context)
                }
            }
        }

        // The tree under the root is the model, byte for byte, with no temp file.
        let onDisk = DiskTree(root: scratch.at("root"))
        #expect(onDisk.unreadable.isEmpty, "\(report.context): unreadable entries \(onDisk.unreadable)")
        let missing = model.nodes.filter { onDisk.nodes[$0.key] != $0.value }.map(\.key)
        let unexpected = onDisk.nodes.keys.filter { model.nodes[$0] == nil }
        #expect(missing.isEmpty, "\(report.context): model entries not on disk as modelled: \(missing.prefix(5).map(StoreModel.show))")
        #expect(unexpected.isEmpty, "\(report.context): entries on disk the model lacks: \(unexpected.prefix(5).map(StoreModel.show))")

        // Nothing outside the root.
        var after = stat()
        #expect(stat(sentinelPath, &after) == 0)
        #expect(after.st_ino == before.st_ino && after.st_size == before.st_size, "\(report.context): the sentinel was replaced")
        #expect(contents(of: sentinelPath) == sentinelBytes, "\(report.context): the sentinel changed")
        let around = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(around == ["root", "sentinel"], "\(report.context): entries next to the root: \(around)")

        #expect(report.mismatches == 0, "\(report.context): \(report.mismatches) calls did not behave as modelled")
        // The sweep met every kind of outcome, so the model is not vacuous.
        for outcome in FuzzReport.Outcome.allCases {
            #expect(report.seen[outcome, default: 0] > 0, "\(report.context): no call ended in \(outcome)")
        }
        print(
            "NameFuzzTests shard \(shard): \(Self.operationsPerShard) calls, outcomes \(report.summary), \(model.nodes.count) entries stored"
        )
    }
}

// MARK: - The model

/// What a call must do.
fileprivate enum Predicted<Value> {
    case value(Value)
    /// The error code, and the errno it must carry (nil: raised before or without a syscall).
    case error(LocalStorageError.Code, CInt?)
}

/// The store as the documented rules and POSIX describe it, by raw bytes (never by String
/// equality: Swift's canonical equivalence would merge names the file system keeps apart).
fileprivate struct StoreModel {
    enum Node: Equatable {
        case file([UInt8])
        case directory
    }

    /// Every entry under the root, by its relative path (components joined by "/").
    var nodes: [[UInt8]: Node] = [:]
    /// The file names directly in each directory ([] is the root).
    private var files: [[UInt8]: Set<[UInt8]>] = [:]

    static let slash = UInt8(ascii: "/")

    // The documented rules, restated independently of the engine.

    /// Every component, of names and contexts alike, must not start with `.ls-` (the engine's own).
    static func componentIsValid(_ component: ArraySlice<UInt8>) -> Bool {
        !component.isEmpty && component.count <= Int(NAME_MAX) && !component.contains(0) && !component.contains(slash)
            && component != [UInt8(ascii: ".")] && component != [UInt8(ascii: "."), UInt8(ascii: ".")]
            && !component.starts(with: Array(".ls-".utf8))
    }

    static func nameIsValid(_ name: [UInt8]) -> Bool {
        componentIsValid(name[...])
    }

    /// The components of a valid context, nil for an invalid one.
    static func components(_ context: [UInt8]) -> [[UInt8]]? {
        if context.isEmpty { return [] }
        if context.first == slash { return nil }
        let parts = context.split(separator: slash, omittingEmptySubsequences: false)
        guard parts.allSatisfy(componentIsValid) else { return nil }
        return parts.map(Array.init)
    }

    static func join(_ parts: [[UInt8]]) -> [UInt8] { Array(parts.joined(separator: [slash])) }

    /// A path for messages: long ones shortened.
    static func show(_ path: [UInt8]) -> String {
        let text = String(decoding: path.prefix(120), as: UTF8.self).debugDescription
        return path.count > 120 ? text + "… (\(path.count) bytes)" : text
    }

    /// How path resolution ends, component by component.
    enum Walk { case missing, notADirectory, file, directory }

    func walk(_ parts: [[UInt8]]) -> Walk {
        var prefix: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 { prefix.append(Self.slash) }
            prefix += part
            switch nodes[prefix] {
            case nil: return .missing
            case .file?: return index == parts.count - 1 ? .file : .notADirectory
            case .directory?: continue
            }
        }
        return .directory
    }

    mutating func upload(_ name: [UInt8], _ content: [UInt8], in context: [UInt8]) -> Predicted<Bool> {
        guard Self.nameIsValid(name), let parts = Self.components(context) else { return .error(.invalidName, nil) }
        switch walk(parts) {
        case .notADirectory, .file: return .error(.notADirectory, ENOTDIR)
        case .missing:
            // mkdir -p: every missing component becomes a directory.
            for depth in 1...parts.count where nodes[Self.join(Array(parts[..<depth]))] == nil {
                nodes[Self.join(Array(parts[..<depth]))] = .directory
            }
        case .directory: break
        }
        let path = Self.join(parts + [name])
        if nodes[path] == .directory { return .error(.notARegularFile, EISDIR) }
        nodes[path] = .file(content)
        files[Self.join(parts), default: []].insert(name)
        return .value(true)
    }

    func download(_ name: [UInt8], in context: [UInt8]) -> Predicted<[UInt8]> {
        guard Self.nameIsValid(name), let parts = Self.components(context) else { return .error(.invalidName, nil) }
        switch walk(parts + [name]) {
        case .missing: return .error(.notFound, ENOENT)
        case .notADirectory: return .error(.notADirectory, ENOTDIR)
        case .directory: return .error(.notARegularFile, nil)
        case .file:
            guard case .file(let content)? = nodes[Self.join(parts + [name])] else { return .error(.systemError, nil) }
            return .value(content)
        }
    }

    func exists(_ name: [UInt8], in context: [UInt8]) -> Predicted<Bool> {
        guard Self.nameIsValid(name), let parts = Self.components(context) else { return .error(.invalidName, nil) }
        // In the root: fstatat of the name alone. In a context: openat2 of the whole path.
        return .value(walk(parts + [name]) == .file)
    }

    mutating func delete(_ name: [UInt8], in context: [UInt8]) -> Predicted<Bool> {
        guard Self.nameIsValid(name), let parts = Self.components(context) else { return .error(.invalidName, nil) }
        switch walk(parts) {
        case .missing: return .error(.notFound, ENOENT)
        case .notADirectory, .file: return .error(.notADirectory, ENOTDIR)
        case .directory: break
        }
        let path = Self.join(parts + [name])
        switch nodes[path] {
        case nil: return .error(.notFound, ENOENT)
        case .directory?: return .error(.notARegularFile, EISDIR)
        case .file?:
            nodes[path] = nil
            files[Self.join(parts)]?.remove(name)
            return .value(true)
        }
    }

    func list(_ context: [UInt8]) -> Predicted<[[UInt8]]> {
        guard let parts = Self.components(context) else { return .error(.invalidName, nil) }
        switch walk(parts) {
        case .missing: return .value([])
        case .notADirectory, .file: return .error(.notADirectory, ENOTDIR)
        case .directory: return .value(Array(files[Self.join(parts)] ?? []))
        }
    }

    /// The same names (by bytes), listed in sorted order.
    static func sameListing(_ expected: [[UInt8]], _ listed: [String]) -> Bool {
        let sorted = zip(listed, listed.dropFirst()).allSatisfy { !($1 < $0) }
        return sorted && listed.count == expected.count && Set(listed.map { Array($0.utf8) }) == Set(expected)
    }
}

/// Counts outcomes and records mismatches (the first few in full).
fileprivate struct FuzzReport {
    enum Outcome: String, CaseIterable {
        case success, invalidName, notFound, notADirectory, notARegularFile
    }

    let seed: UInt64
    let shard: Int
    var mismatches = 0
    var seen: [Outcome: Int] = [:]

    var context: String { "seed \(seed), shard \(shard)" }
    var summary: String { Outcome.allCases.map { "\($0.rawValue) \(seen[$0, default: 0])" }.joined(separator: ", ") }

    mutating func check<Expected, Actual>(
        _ label: @autoclosure () -> String, _ predicted: Predicted<Expected>, _ same: (Expected, Actual) -> Bool,
        _ body: () throws -> Actual
    ) {
        #if ENABLE_MOCKING
        // A name or context the rules reject is rejected before any syscall.
        let injector = FaultInjector()
        let outcome: Result<Actual, any Error> = Result { try injector.run { try body() } }
        if case .error(.invalidName, nil) = predicted, let call = Syscall.allCases.first(where: { injector.calls(to: $0) > 0 }) {
            mismatch(label(), "rejected only after calling \(call.rawValue)")
        }
        #else
        let outcome: Result<Actual, any Error> = Result { try body() }
        #endif
        switch (predicted, outcome) {
        case (.value(let expected), .success(let actual)):
            if same(expected, actual) { seen[.success, default: 0] += 1 } else { mismatch(label(), "got \(actual), expected \(expected)") }
        case (.error(let code, let errno), .failure(let error as LocalStorageError)):
            if error.code == code && error.errno == errno {
                switch code {
                case .invalidName: seen[.invalidName, default: 0] += 1
                case .notFound: seen[.notFound, default: 0] += 1
                case .notADirectory: seen[.notADirectory, default: 0] += 1
                case .notARegularFile: seen[.notARegularFile, default: 0] += 1
                default: mismatch(label(), "the model predicted \(code)")
                }
            } else {
                mismatch(label(), "got \(error), expected \(code) with errno \(errno.map { Errno(rawValue: $0).name } ?? "none")")
            }
        case (.value(let expected), .failure(let error)):
            mismatch(label(), "got \(error), expected success with \(expected)")
        case (.error(let code, _), .success(let actual)):
            mismatch(label(), "succeeded with \(actual), expected \(code)")
        case (.error(let code, _), .failure(let error)):
            mismatch(label(), "got \(error), expected LocalStorageError.\(code)")
        }
    }

    private mutating func mismatch(_ label: String, _ detail: String) {
        mismatches += 1
        if mismatches <= 20 { Issue.record("\(context) \(label): \(detail)") }
    }
}

// MARK: - The generator

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
fileprivate struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

fileprivate struct NameFuzzer {
    enum Operation: String, CaseIterable { case upload, download, exists, delete, list }

    var random: FuzzRandom
    /// Absolute paths that lead next to the root, for absolute contexts.
    let outside: [[UInt8]]

    init(seed: UInt64, scratchPath: String) {
        random = FuzzRandom(state: seed)
        outside = [scratchPath, scratchPath + "/root", scratchPath + "/sentinel", scratchPath + "/root/.."].map { Array($0.utf8) }
    }

    /// Ordinary and tricky components; drawn often, so names and contexts collide.
    static let pool: [[UInt8]] = [
        "a", "b", "c", "x", "data", "é", "e\u{301}", ".", "..", "...", ".a", "..a", "a.", " ", "-", "~", "*", "\\", "\\..",
        "%2e%2e", "%2f", "CON", "nul", "root", "sentinel", ".ls-tmp-", ".ls-tmp-0123456789abcdef", ".ls-tmp", "ls-tmp-",
        ".ls-", ".ls", ".ls-meta", "x.ls-",
        ".LS-TMP-x", "\u{FEFF}", "\u{301}", "\u{600}", "\u{200D}", "\u{202E}", "\u{FE0F}", "\n", "\t", "\u{7F}", "\u{FFFD}",
        "😀", "👨‍👩‍👧", "日本", "a\u{0}b", "\u{0}",
    ].map { Array($0.utf8) }

    /// Contexts that must never lead anywhere.
    static let hostileContexts: [[UInt8]] = [
        "/", "/a", "/etc", "a//b", "a/", "//", "./a", "a/./b", "a/../b", "..", "../..", "../sentinel", "a/..", "../root/a",
        "root/../..", "\u{0}", "a\u{0}/b", "a/\u{0}", ".", "./", "/..", "a/b/../../..",
    ].map { Array($0.utf8) }

    /// Long components for contexts around PATH_MAX: 255, 240 and 254 bytes.
    static let longComponents: [[UInt8]] = [
        Array(repeating: UInt8(ascii: "L"), count: 255), Array(repeating: UInt8(ascii: "M"), count: 240),
        Array(String(repeating: "é", count: 127).utf8),
    ]

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    mutating func operation() -> Operation {
        switch below(20) {
        case 0..<6: .upload
        case 6..<10: .download
        case 10..<13: .exists
        case 13..<16: .delete
        default: .list
        }
    }

    mutating func content() -> [UInt8] { (0..<below(48)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }

    /// One component-like byte string.
    mutating func component() -> [UInt8] {
        switch below(16) {
        case 0..<7:
            return pick(Self.pool)
        case 7:
            // Arbitrary bytes: NUL, '/', invalid UTF-8 and all.
            return (0..<below(13)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 8:
            // Bytes from a hostile alphabet: dots, slashes, NUL, UTF-8 lead and continuation bytes.
            let alphabet: [UInt8] = [0x2E, 0x2E, 0x2F, 0x00, 0x61, 0xC3, 0xA9, 0x80, 0xBF, 0xE2, 0xF0, 0xFF, 0xFE, 0xED, 0xA0]
            return (0..<1 + below(6)).map { _ in pick(alphabet) }
        case 9, 10:
            // Random Unicode scalars, weighted to the ones that join with their neighbours.
            var text = String.UnicodeScalarView()
            for _ in 0..<1 + below(6) { text.append(randomScalar()) }
            return Array(String(text).utf8)
        case 11:
            // Around NAME_MAX, in 1- to 4-byte characters.
            let unit = pick(["n", "é", "€", "😀"])
            let target = 248 + below(12)
            var bytes: [UInt8] = []
            while bytes.count + unit.utf8.count <= target { bytes += unit.utf8 }
            if below(2) == 0 { bytes += Array(repeating: UInt8(ascii: "n"), count: target - bytes.count) }
            return bytes
        case 12:
            return pick(Self.pool) + pick(Self.pool)
        case 13:
            return pick(Self.pool) + [0x2F] + pick(Self.pool)
        case 14:
            return Array(reservedTempPrefix.utf8) + pick(Self.pool)
        default:
            return Array("f\(below(50))".utf8)
        }
    }

    mutating func randomScalar() -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [
            0x00...0x7F, 0x80...0x2FF, 0x300...0x36F, 0x600...0x605, 0x900...0x97F, 0x1100...0x11FF, 0x200B...0x202E,
            0x2060...0x206F, 0xFE00...0xFE0F, 0xFFF0...0xFFFD, 0x1F1E6...0x1F1FF, 0x1F300...0x1F64F, 0xE0000...0xE007F,
            0x10000...0x10FFFF,
        ]
        while true {
            let range = pick(ranges)
            let value = range.lowerBound + UInt32(below(Int(range.upperBound - range.lowerBound) + 1))
            if let scalar = Unicode.Scalar(value) { return scalar }
        }
    }

    mutating func name() -> [UInt8] {
        below(40) == 0 ? pick(Self.hostileContexts) : component()
    }

    mutating func context() -> [UInt8] {
        switch below(24) {
        case 0..<7:
            return []
        case 7..<18:
            return Array((0..<1 + below(3)).map { _ in component() }.joined(separator: [0x2F]))
        case 18, 19:
            return pick(Self.hostileContexts)
        case 20:
            return pick(outside) + (below(2) == 0 ? [] : [0x2F] + component())
        case 21:
            // Separators in the wrong places.
            let parts = (0..<1 + below(3)).map { _ in component() }
            let separator: [UInt8] = below(2) == 0 ? [0x2F, 0x2F] : [0x2F]
            var bytes = Array(parts.joined(separator: separator))
            if below(2) == 0 { bytes.insert(0x2F, at: 0) } else { bytes.append(0x2F) }
            return bytes
        default:
            // 15 to 17 long components: just under or over PATH_MAX, and the name on top.
            let count = 15 + below(3)
            return Array((0..<count).map { _ in pick(Self.longComponents) }.joined(separator: [0x2F]))
        }
    }
}

// MARK: - The tree on disk

/// Every entry under a directory, read with raw byte names (no Foundation normalization) and
/// relative to open directory descriptors (paths deeper than PATH_MAX are stored on purpose).
fileprivate struct DiskTree {
    var nodes: [[UInt8]: StoreModel.Node] = [:]
    var unreadable: [String] = []

    init(root: String) {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            unreadable.append(root)
            return
        }
        scan(fd, relative: [])
        close(fd)
    }

    private mutating func scan(_ directoryFD: CInt, relative: [UInt8]) {
        let duplicate = dup(directoryFD)
        guard duplicate >= 0, let stream = fdopendir(duplicate) else {
            unreadable.append(StoreModel.show(relative))
            return
        }
        defer { closedir(stream) }
        var entries: [([UInt8], UInt8)] = []
        while let entry = readdir(stream) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E] && name != [0x2E, 0x2E] { entries.append((name, entry.pointee.d_type)) }
        }
        for (name, type) in entries {
            let path = relative.isEmpty ? name : relative + [StoreModel.slash] + name
            let flags = (type == UInt8(DT_DIR) ? O_DIRECTORY : 0) | O_RDONLY | O_NOFOLLOW | O_CLOEXEC
            let fd = (name + [0]).withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { openat(directoryFD, $0.baseAddress!, flags) }
            }
            guard fd >= 0, type == UInt8(DT_DIR) || type == UInt8(DT_REG) else {
                if fd >= 0 { close(fd) }
                unreadable.append(StoreModel.show(path))
                continue
            }
            defer { close(fd) }
            if type == UInt8(DT_DIR) {
                nodes[path] = .directory
                scan(fd, relative: path)
            } else if let content = Self.readAll(fd) {
                nodes[path] = .file(content)
            } else {
                unreadable.append(StoreModel.show(path))
            }
        }
    }

    private static func readAll(_ fd: CInt) -> [UInt8]? {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { return nil }
            if got == 0 { return content }
            content += buffer[0..<got]
        }
    }
}
