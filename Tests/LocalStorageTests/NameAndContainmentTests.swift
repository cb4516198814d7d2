import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// Invalid names, traversal attempts and planted links: nothing outside the root is ever read,
/// written, renamed or deleted.
@Suite struct NameAndContainmentTests {
    static let badNames = [
        "", ".", "..", "a/b", "../x", "/etc/passwd", "a\0b", String(repeating: "n", count: 256),
        ".ls-tmp-0123456789abcdef", ".ls-tmp-",
    ]
    static let badContexts = [
        "/", "/abs", "..", "../outside", "a/../../x", "a//b", "a/", "/a", ".", "a/./b",
        "a\0b", String(repeating: "c", count: 256),
    ]

    @Test func invalidNamesAreRejectedBeforeAnySyscall() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        for name in Self.badNames {
            try checkRejected(storage, name: name, context: "ok")
        }
        for context in Self.badContexts {
            try checkRejected(storage, name: "ok", context: context)
        }
        // A 255-byte name is fine.
        try storage.uploadFile(file: "long", fileName: String(repeating: "n", count: 255), context: "")
    }

    private func checkRejected(_ storage: LocalStorage, name: String, context: String) throws {
        #if ENABLE_MOCKING
        let injector = FaultInjector()
        injector.run { runAll(storage, name: name, context: context) }
        for syscall in Syscall.allCases {
            #expect(injector.calls(to: syscall) == 0, "\(syscall) called for name \(name.debugDescription)")
        }
        #else
        runAll(storage, name: name, context: context)
        #endif
    }

    private func runAll(_ storage: LocalStorage, name: String, context: String) {
        expectError(.invalidName) { try storage.uploadFile(file: "x", fileName: name, context: context) }
        expectError(.invalidName) { try storage.downloadFile(name, context: context) }
        expectError(.invalidName) { try storage.checkIfExists(name, context: context) }
        expectError(.invalidName) { try storage.deleteFile(name, context: context) }
        expectError(.invalidName) { try storage.getFileByHashcode(name, context: context) }
        if name == "ok" {
            expectError(.invalidName) { try storage.listStoredFiles(context) }
        }
    }

    @Test func invalidNameErrorsSayWhatIsWrong() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let error = expectError(.invalidName) { try storage.uploadFile(file: "x", fileName: "..", context: "") }
        #expect(error?.syscall == nil)
        #expect(error?.operation == .upload)
        #expect(error?.description.contains("'..'") == true)
    }

    @Test func plantedDirectorySymlinkIsRefused() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try FileManager.default.createDirectory(atPath: scratch.at("outside"), withIntermediateDirectories: true)
        write("sentinel", to: scratch.at("outside/secret"))
        #expect(symlink(scratch.at("outside"), scratch.at("root/evil")) == 0)
        #expect(symlink("../outside", scratch.at("root/relative")) == 0)
        try FileManager.default.createDirectory(atPath: scratch.at("root/deep"), withIntermediateDirectories: true)
        #expect(symlink("../../outside", scratch.at("root/deep/up")) == 0)

        for context in ["evil", "relative", "deep/up", "evil/sub"] {
            expectError(.unsafePath) { try storage.uploadFile(file: "pwned", fileName: "secret", context: context) }
            expectError(.unsafePath) { try storage.uploadFile(file: "pwned", fileName: "new", context: context) }
            expectError(.unsafePath) { try storage.downloadFile("secret", context: context) }
            expectError(.unsafePath) { try storage.getFileByHashcode("secret", context: context) }
            expectError(.unsafePath) { try storage.deleteFile("secret", context: context) }
            expectError(.unsafePath) { try storage.listStoredFiles(context) }
            expectError(.unsafePath) { try storage.checkIfExists("secret", context: context) }
        }
        #expect(contents(of: scratch.at("outside/secret")) == Data("sentinel".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.at("outside")) == ["secret"])
    }

    @Test func plantedFileSymlinkIsNeverFollowed() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        write("sentinel", to: scratch.at("secret"))
        try FileManager.default.createDirectory(atPath: scratch.at("root/ctx"), withIntermediateDirectories: true)
        #expect(symlink(scratch.at("secret"), scratch.at("root/ctx/name")) == 0)
        #expect(symlink(scratch.at("secret"), scratch.at("root/top")) == 0)

        for (name, context) in [("name", "ctx"), ("top", "")] {
            expectError(.unsafePath) { try storage.downloadFile(name, context: context) }
            expectError(.unsafePath) { try storage.getFileByHashcode(name, context: context) }
            #expect(try !storage.checkIfExists(name, context: context))
        }
        // Upload replaces the link itself; delete removes the link itself.
        try storage.uploadFile(file: "mine", fileName: "name", context: "ctx")
        #expect(try storage.downloadFile("name", context: "ctx") == Data("mine".utf8))
        try storage.deleteFile("top", context: "")
        #expect(contents(of: scratch.at("secret")) == Data("sentinel".utf8))
    }

    @Test func hardLinkToAnOutsideFileIsReplacedNotWrittenThrough() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        write("sentinel", to: scratch.at("secret"))
        #expect(link(scratch.at("secret"), scratch.at("root/linked")) == 0)
        try storage.uploadFile(file: "new content", fileName: "linked", context: "")
        #expect(contents(of: scratch.at("secret")) == Data("sentinel".utf8))
        #expect(try storage.downloadFile("linked", context: "") == Data("new content".utf8))
    }

    @Test func plantedFifoDoesNotBlockReads() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        #expect(mkfifo(scratch.at("root/fifo"), 0o644) == 0)
        expectError(.notARegularFile) { try storage.downloadFile("fifo", context: "") }
        #expect(try !storage.checkIfExists("fifo", context: ""))
    }

    @Test func directoryUnderTheNameIsNotAFile() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "x", fileName: "inner", context: "dir")
        expectError(.notARegularFile) { try storage.downloadFile("dir", context: "") }
        expectError(.notARegularFile) { try storage.deleteFile("dir", context: "") }
        expectError(.notARegularFile) { try storage.uploadFile(file: "x", fileName: "dir", context: "") }
        #expect(try !storage.checkIfExists("dir", context: ""))
        #expect(try storage.downloadFile("inner", context: "dir") == Data("x".utf8))
        #expect(tempFiles(in: scratch.at("root")).isEmpty)
    }

    @Test func fileInTheMiddleOfAContextIsNotADirectory() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "x", fileName: "plain", context: "")
        expectError(.notADirectory) { try storage.uploadFile(file: "y", fileName: "f", context: "plain/sub") }
        #expect(try !storage.checkIfExists("f", context: "plain"))
    }

    @Test func missingThingsAreNotFound() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        for context in ["", "nope", "nope/deeper"] {
            let error = expectError(.notFound) { try storage.downloadFile("missing", context: context) }
            #expect(error?.errno == ENOENT)
            #expect(error?.path?.hasSuffix("missing") == true)
            expectError(.notFound) { try storage.getFileByHashcode("missing", context: context) }
            expectError(.notFound) { try storage.deleteFile("missing", context: context) }
            #expect(try !storage.checkIfExists("missing", context: context))
        }
    }
}
