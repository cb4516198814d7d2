import Foundation
import Testing

@testable import LocalStorage

/// The examples of the seed document, in Swift.
@Suite struct SeedExampleTests {
    @Test func basicRoundTrip() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(storagePath: scratch.at("storage/root"))
        #expect(storage.getRootPath() == scratch.at("storage/root"))

        let stored = try storage.uploadFile(file: "Hello, World!", fileName: "greeting.txt", context: "messages")
        #expect(stored == "greeting.txt")
        #expect(String(decoding: try storage.downloadFile("greeting.txt", context: "messages"), as: UTF8.self) == "Hello, World!")
        #expect(try storage.checkIfExists("greeting.txt", context: "messages"))
        #expect(try storage.listStoredFiles("messages") == ["greeting.txt"])
        try storage.deleteFile("greeting.txt", context: "messages")
        #expect(try !storage.checkIfExists("greeting.txt", context: "messages"))
        #expect(try storage.listStoredFiles("messages") == [])
        // Stored as raw bytes at root/context/name.
        try storage.uploadFile(file: [0, 1, 2, 255], fileName: "raw.bin", context: "a/b")
        #expect(contents(of: scratch.at("storage/root/a/b/raw.bin")) == Data([0, 1, 2, 255]))
    }

    @Test func directStreamingFromAFileHandle() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let payload = patternBytes(count: 3 << 20, seed: 7)
        write(Data(payload), to: scratch.at("large_file.dat"))
        for direct in [true, false] {
            let handle = try #require(FileHandle(forReadingAtPath: scratch.at("large_file.dat")))
            defer { try? handle.close() }
            try storage.uploadFile(file: handle, fileName: "large_file.dat", context: "data", directStream: direct)
            #expect(try storage.downloadFile("large_file.dat", context: "data") == Data(payload))
            #expect(try handle.offset() == UInt64(payload.count))
        }
    }

    @Test func uploadFromHandleStartsAtItsCurrentOffset() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        write("0123456789", to: scratch.at("src"))
        for direct in [true, false] {
            let handle = try #require(FileHandle(forReadingAtPath: scratch.at("src")))
            try handle.seek(toOffset: 4)
            try storage.uploadFile(file: handle, fileName: "tail", context: "", directStream: direct)
            #expect(try storage.downloadFile("tail", context: "") == Data("456789".utf8))
            try handle.close()
        }
    }

    @Test func customFileNaming() throws {
        final class CustomLocalStorage: LocalStorage, @unchecked Sendable {
            override func fileName(for name: String) -> String { "custom_prefix_\(name)" }
        }
        let scratch = Scratch()
        let storage = try CustomLocalStorage(storagePath: scratch.at("root"), durability: .noSync)
        #expect(try storage.uploadFile(file: "x", fileName: "a.txt", context: "c") == "custom_prefix_a.txt")
        #expect(try storage.listStoredFiles("c") == ["custom_prefix_a.txt"])
        #expect(try storage.checkIfExists("a.txt", context: "c"))
        #expect(try storage.downloadFile("a.txt", context: "c") == Data("x".utf8))
        let handle = try storage.getFileByHashcode("a.txt", context: "c")
        #expect(try handle.readToEnd() == Data("x".utf8))
        try storage.deleteFile("a.txt", context: "c")
        #expect(try storage.listStoredFiles("c") == [])
    }

    @Test func relativeRootResolvesAgainstTheCurrentDirectory() throws {
        let scratch = Scratch()
        let previous = FileManager.default.currentDirectoryPath
        // chdir is process-wide; only this test changes it, and restores it at once.
        #expect(FileManager.default.changeCurrentDirectoryPath(scratch.path))
        let storage = try LocalStorage(storagePath: "./x/../cache/", durability: .noSync)
        #expect(FileManager.default.changeCurrentDirectoryPath(previous))
        #expect(storage.getRootPath() == scratch.at("cache"))
        try storage.uploadFile(file: "v", fileName: "n", context: "")
        #expect(contents(of: scratch.at("cache/n")) == Data("v".utf8))
    }

    @Test(arguments: Durability.allCases)
    func everyDurabilityReplacesAtomically(_ durability: Durability) throws {
        let scratch = Scratch()
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: durability)
        #expect(storage.durability == durability)
        try storage.uploadFile(file: "one", fileName: "f", context: "x/y/z")
        try storage.uploadFile(file: "two", fileName: "f", context: "x/y/z")
        #expect(try storage.downloadFile("f", context: "x/y/z") == Data("two".utf8))
        #expect(tempFiles(in: scratch.at("root/x/y/z")).isEmpty)
    }

    @Test func listingIsSortedRegularFilesOnly() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        for name in ["b", "a", "c.txt"] { try storage.uploadFile(file: name, fileName: name, context: "ctx") }
        try storage.uploadFile(file: "sub", fileName: "inner", context: "ctx/sub")
        write("stale temp", to: scratch.at("root/ctx/.ls-tmp-0123456789abcdef"))
        #expect(symlink("a", scratch.at("root/ctx/link")) == 0)
        #expect(try storage.listStoredFiles("ctx") == ["a", "b", "c.txt"])
        #expect(try storage.listStoredFiles("missing/context") == [])
        #expect(try storage.listStoredFiles("") == [])
    }

    @Test func manyFilesAreListed() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let names = (0..<3000).map { String(format: "file-%05d-with-a-long-name-to-fill-buffers", $0) }
        for name in names { try storage.uploadFile(file: [], fileName: name, context: "many") }
        #expect(try storage.listStoredFiles("many") == names.sorted())
    }

    @Test func getFileByHashcodeReadsFromTheStartAndKeepsItsVersion() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "version one", fileName: "h", context: "c")
        let handle = try storage.getFileByHashcode("h", context: "c")
        try storage.uploadFile(file: "version two", fileName: "h", context: "c")
        #expect(try handle.offset() == 0)
        #expect(try handle.readToEnd() == Data("version one".utf8))
        try handle.close()
    }

    @Test func zeroBytes() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        try storage.uploadFile(file: Data(), fileName: "empty", context: "")
        #expect(try storage.downloadFile("empty", context: "") == Data())
        #expect(try storage.checkIfExists("empty", context: ""))
        write("", to: scratch.at("emptysrc"))
        for direct in [true, false] {
            let handle = try #require(FileHandle(forReadingAtPath: scratch.at("emptysrc")))
            try storage.uploadFile(file: handle, fileName: "empty2", context: "", directStream: direct)
            #expect(try storage.downloadFile("empty2", context: "") == Data())
            try handle.close()
        }
    }

    @Test func storedFilesHaveTheRequestedMode() throws {
        let scratch = Scratch()
        let storage = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync, fileMode: 0o640)
        try storage.uploadFile(file: "m", fileName: "f", context: "")
        var status = stat()
        #expect(stat(scratch.at("root/f"), &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o640)
    }
}
