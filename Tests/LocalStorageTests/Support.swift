import CLocalStorage
import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// Where scratch directories go: /tmp, or LOCALSTORAGE_TEST_DIR (scripts/test-on-xfs.sh points
/// it at a loop-mounted XFS, so that the streaming suites run where files share extents).
let scratchParent = ProcessInfo.processInfo.environment["LOCALSTORAGE_TEST_DIR"] ?? "/tmp"

/// True where the scratch file system shares extents (FICLONE works: XFS with reflink, btrfs),
/// so a direct ingest of a regular file is a reflink rather than a copy.
let scratchSharesExtents: Bool = {
    let probe = Scratch()
    let source = open(probe.at("a"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    let clone = open(probe.at("b"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    defer {
        if source >= 0 { close(source) }
        if clone >= 0 { close(clone) }
    }
    var byte: UInt8 = 1
    guard source >= 0, clone >= 0, Glibc.write(source, &byte, 1) == 1 else { return false }
    return CLocalStorage_ficlone(clone, source) == 0
}()

/// A real temporary directory, removed when the value goes away.
final class Scratch: @unchecked Sendable {
    let path: String

    init(in parent: String = scratchParent) {
        var template = Array((parent + "/localstorage-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        path = made.map { String(cString: $0) } ?? parent + "/localstorage-test-\(UInt64.random(in: 0...UInt64.max))"
        if made == nil { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/relative`.
    func at(_ relative: String) -> String { path + "/" + relative }

    /// A storage root inside this scratch directory.
    func storage(_ durability: Durability = .noSync) throws -> LocalStorage {
        try LocalStorage(storagePath: at("root"), durability: durability)
    }
}

/// Reads a whole file with Foundation, bypassing the engine.
func contents(of path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// Writes a file with Foundation, bypassing the engine.
func write(_ text: String, to path: String) { write(Data(text.utf8), to: path) }

/// Writes a file with Foundation, bypassing the engine.
func write(_ data: Data, to path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let created = FileManager.default.createFile(atPath: path, contents: data)
    #expect(created, "could not create \(path)", sourceLocation: sourceLocation)
}

/// Entries of a directory whose names carry the engine's temp prefix.
func tempFiles(in directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(".ls-tmp-") }
}

/// Asserts that `body` throws a `LocalStorageError` with `code`, and returns it.
@discardableResult
func expectError<R>(
    _ code: LocalStorageError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) -> LocalStorageError? {
    do {
        _ = try body()
        Issue.record("expected LocalStorageError.\(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as LocalStorageError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected LocalStorageError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Deterministic pseudo-random bytes (xorshift), so content mismatches cannot hide.
func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var index = 0
        while index < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            withUnsafeBytes(of: state) { word in
                let n = min(8, count - index)
                for k in 0..<n { buffer[index + k] = word[k] }
            }
            index += 8
        }
    }
    return bytes
}
