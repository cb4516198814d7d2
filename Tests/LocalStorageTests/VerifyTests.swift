// verifyStoredObject: intact objects and arrays are told apart from raw files and from damaged
// ones, whatever the damage, without knowing the stored type.
import Foundation
import Glibc
import Testing

@testable import LocalStorage

@Suite struct VerifyTests {
    struct Point: Codable, Equatable {
        var x: Double
        var label: String
    }

    /// Overwrites one byte of a stored file behind the library's back.
    private func flip(_ path: String, at offset: Int) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        try #require(fd >= 0, "cannot open \(path)")
        defer { close(fd) }
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, off_t(offset)) == 1)
        byte ^= 0x20
        #expect(pwrite(fd, &byte, 1, off_t(offset)) == 1)
    }

    @Test func intactObjectsAndArraysSayWhatTheyHold() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadObject(Point(x: 1, label: "a"), fileName: "binary", context: "c")
        try storage.uploadObject(Point(x: 2, label: "b"), fileName: "json", context: "c", encoding: .json)
        try storage.uploadArray([Float](repeating: 0.5, count: 1000), fileName: "floats", context: "c")
        try storage.uploadArray([UInt16](), fileName: "empty-array", context: "c")

        let binary = try storage.verifyStoredObject("binary", context: "c")
        guard case .object(.binary, let binaryBytes) = binary else {
            Issue.record("binary object: \(binary)")
            return
        }
        #expect(binaryBytes == Int64(try storage.fileInfo("binary", context: "c").size) - 64)
        let json = try storage.verifyStoredObject("json", context: "c")
        guard case .object(.json, _) = json else {
            Issue.record("JSON object: \(json)")
            return
        }
        #expect(
            try storage.verifyStoredObject("floats", context: "c")
                == .array(
                    StoredArrayLayout(
                        elementCount: 1000, elementSize: 4, elementStride: 4, elementAlignment: 4, isLittleEndian: true,
                        elementTypeHash: ArrayElementType(Float.self).identity)))
        let empty = try storage.verifyStoredObject("empty-array", context: "c")
        guard case .array(let layout) = empty else {
            Issue.record("empty array: \(empty)")
            return
        }
        #expect(layout.elementCount == 0 && layout.elementStride == 2)
        #expect(binary.isIntact && empty.isIntact)
        #expect(binary.description.hasPrefix("object (binary, "))
    }

    @Test func rawFilesAreNotObjects() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "", fileName: "empty", context: "")
        try storage.uploadFile(file: "hello, world", fileName: "text", context: "")
        try storage.uploadFile(file: [UInt8](repeating: 0x89, count: 200), fileName: "bytes", context: "")
        for name in ["empty", "text", "bytes"] {
            #expect(try storage.verifyStoredObject(name, context: "") == .notAnObject, "\(name)")
        }
    }

    @Test func everyKindOfDamageIsCorruption() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let floats = [Float](repeating: 1.25, count: 4096)
        // offset: a byte of the magic, of a header field, of the header checksum, of the payload.
        for offset in [0, 5, 11, 40, 61, 64, 64 + 4095, 64 + 16383] {
            let name = "damaged-\(offset)"
            try storage.uploadArray(floats, fileName: name, context: "d")
            try flip(scratch.at("root/d/\(name)"), at: offset)
            let result = try storage.verifyStoredObject(name, context: "d")
            guard case .corrupted(let reason) = result else {
                Issue.record("a flipped byte at \(offset) gave \(result)")
                continue
            }
            #expect(!reason.isEmpty)
            // The library's own reader agrees.
            expectError(.corrupted) { try storage.downloadArray(Float.self, fileName: name, context: "d") }
        }
        try storage.uploadObject(Point(x: 3, label: "c"), fileName: "object", context: "d")
        try flip(scratch.at("root/d/object"), at: 70)
        guard case .corrupted(let reason) = try storage.verifyStoredObject("object", context: "d") else {
            Issue.record("a damaged object passed")
            return
        }
        #expect(reason.contains("checksum"))
    }

    @Test func truncatedAndExtendedFilesAreCorruption() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        for (name, length) in [("short-header", 30), ("no-payload", 64), ("short-payload", 100), ("extended", 10_000)] {
            try storage.uploadArray([UInt64](repeating: 7, count: 1000), fileName: name, context: "t")
            #expect(truncate(scratch.at("root/t/\(name)"), off_t(length)) == 0)
            let result = try storage.verifyStoredObject(name, context: "t")
            guard case .corrupted = result else {
                Issue.record("\(name) (\(length) bytes) gave \(result)")
                continue
            }
        }
    }

    @Test func missingFilesAndBadNamesThrow() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        expectError(.notFound) { try storage.verifyStoredObject("absent", context: "c") }
        expectError(.invalidName) { try storage.verifyStoredObject("a/b", context: "c") }
        try FileManager.default.createDirectory(atPath: scratch.at("root/c/dir"), withIntermediateDirectories: true)
        let error = expectError(.notARegularFile) { try storage.verifyStoredObject("dir", context: "c") }
        #expect(error?.operation == .verify)
    }

    @Test func verificationIsNotAUse() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(
            storagePath: scratch.at("root"), durability: .noSync, limits: CacheLimits(maxBytes: 1 << 30))
        try storage.uploadArray([Int32](repeating: 3, count: 100), fileName: "a", context: "c")
        // Stored (and so last used) a day ago.
        let path = scratch.at("root/c/a")
        let day = timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0)
        let times = [day, day]
        #expect(utimensat(AT_FDCWD, path, times, 0) == 0)
        let before = try storage.fileInfo("a", context: "c").lastUsedDate
        #expect(try storage.verifyStoredObject("a", context: "c").isIntact)
        #expect(try storage.fileInfo("a", context: "c").lastUsedDate == before)
        // A download is a use: the probe can see one.
        _ = try storage.downloadArray(Int32.self, fileName: "a", context: "c")
        #expect(try storage.fileInfo("a", context: "c").lastUsedDate > before)
    }
}
