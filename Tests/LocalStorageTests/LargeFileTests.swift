import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// A 1 GiB upload from a FileHandle, compared byte for byte without holding it in memory.
@Suite(.serialized) struct LargeFileTests {
    static let gibibyte = 1 << 30
    static let chunk = 8 << 20

    /// Writes `size` bytes: one pseudo-random chunk, stamped with its index so no two chunks
    /// are alike (a misplaced chunk would show).
    static func makeSource(at path: String, size: Int) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path) ?? {
            write(Data(), to: path)
            return FileHandle(forWritingAtPath: path)
        }())
        defer { try? handle.close() }
        var pattern = patternBytes(count: chunk, seed: 42)
        var written = 0
        var index: UInt64 = 1
        while written < size {
            let n = min(chunk, size - written)
            withUnsafeBytes(of: index) { stamp in
                for k in 0..<8 { pattern[k] = stamp[k] }
            }
            try handle.write(contentsOf: pattern[0..<n])
            written += n
            index += 1
        }
    }

    /// Compares two files chunk by chunk.
    static func sameContent(_ a: String, _ b: String) throws -> Bool {
        let left = try #require(FileHandle(forReadingAtPath: a))
        let right = try #require(FileHandle(forReadingAtPath: b))
        defer { try? left.close(); try? right.close() }
        while true {
            let x = try left.read(upToCount: chunk) ?? Data()
            let y = try right.read(upToCount: chunk) ?? Data()
            if x != y { return false }
            if x.isEmpty { return true }
        }
    }

    @Test(arguments: [true, false])
    func oneGibibyteFromAFileHandle(directStream: Bool) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fileSync)
        let source = scratch.at("big.src")
        try Self.makeSource(at: source, size: Self.gibibyte)
        try storage.uploadFile(file: "old", fileName: "big", context: "models")
        let handle = try #require(FileHandle(forReadingAtPath: source))
        try storage.uploadFile(file: handle, fileName: "big", context: "models", directStream: directStream)
        try handle.close()
        var status = stat()
        #expect(stat(scratch.at("root/models/big"), &status) == 0)
        #expect(Int(status.st_size) == Self.gibibyte)
        #expect(try Self.sameContent(source, scratch.at("root/models/big")))
        #expect(tempFiles(in: scratch.at("root/models")).isEmpty)
    }
}
