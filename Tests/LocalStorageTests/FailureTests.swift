import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// Failures surface as typed errors and lose nothing.
@Suite struct FailureTests {
    @Test func unreadableSourceHandleKeepsTheOldVersion() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "old", fileName: "f", context: "c")
        write("src", to: scratch.at("src"))
        let writeOnly = try #require(FileHandle(forWritingAtPath: scratch.at("src")))
        for direct in [true, false] {
            expectError(.sourceUnreadable) {
                try storage.uploadFile(file: writeOnly, fileName: "f", context: "c", directStream: direct)
            }
        }
        try writeOnly.close()
        let directory = try #require(FileHandle(forReadingAtPath: scratch.path))
        expectError(.sourceUnreadable) { try storage.uploadFile(file: directory, fileName: "f", context: "c") }
        #expect(try storage.downloadFile("f", context: "c") == Data("old".utf8))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
    }

    @Test func unwritableRootIsAnInitError() throws {
        let scratch = Scratch()
        write("file", to: scratch.at("plain"))
        let error = expectError(.notADirectory) { try LocalStorage(storagePath: scratch.at("plain/root")) }
        #expect(error?.operation == .initialize)
    }

    #if ENABLE_MOCKING
    @Test(arguments: [EIO, ENOSPC, EDQUOT, EFBIG])
    func writeFailingMidwayKeepsTheOldVersion(_ code: CInt) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        let old = patternBytes(count: 100_000, seed: 1)
        try storage.uploadFile(file: old, fileName: "f", context: "c")
        // The source file is written in 1 MiB chunks by the buffered path: fail the third write.
        let payload = patternBytes(count: 5 << 20, seed: 2)
        write(Data(payload), to: scratch.at("src"))
        let handle = try #require(FileHandle(forReadingAtPath: scratch.at("src")))
        defer { try? handle.close() }
        let injector = FaultInjector([.init(syscall: .write, call: 3, repeats: false, fault: .fail(code))])
        let error = injector.run {
            expectError(LocalStorageError.Code(mapping: Errno(rawValue: code), from: .write)) {
                try storage.uploadFile(file: handle, fileName: "f", context: "c", directStream: false)
            }
        }
        #expect(injector.injectedCount == 1)
        #expect(error?.syscall == "write")
        #expect(error?.errno == code)
        #expect(error?.operation == .upload)
        #expect(try storage.downloadFile("f", context: "c") == Data(old))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
        // The next operation works.
        try handle.seek(toOffset: 0)
        try storage.uploadFile(file: handle, fileName: "f", context: "c")
        #expect(try storage.downloadFile("f", context: "c") == Data(payload))
    }

    @Test func failedFileSyncIsNeverFollowedByTheRename() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fileSync)
        try storage.uploadFile(file: "old", fileName: "f", context: "")
        let injector = FaultInjector([.init(syscall: .fsync, call: 1, repeats: false, fault: .fail(EIO))])
        injector.run {
            expectError(.ioError) { try storage.uploadFile(file: "new", fileName: "f", context: "") }
        }
        #expect(injector.calls(to: .renameat) == 0)
        #expect(try storage.downloadFile("f", context: "") == Data("old".utf8))
        #expect(tempFiles(in: scratch.at("root")).isEmpty)
    }

    @Test func failedDirectorySyncSaysDurabilityIsUnknown() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        try storage.uploadFile(file: "old", fileName: "f", context: "c")
        // fsync #1 is the file, #2 the directory.
        let injector = FaultInjector([.init(syscall: .fsync, call: 2, repeats: false, fault: .fail(EIO))])
        let error = injector.run {
            expectError(.durabilityUnknown) { try storage.uploadFile(file: "new", fileName: "f", context: "c") }
        }
        #expect(error?.syscall == "fsync")
        #expect(error?.errno == EIO)
        #expect(error?.message.contains("visible") == true)
        #expect(try storage.downloadFile("f", context: "c") == Data("new".utf8))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
    }

    @Test func interruptsAndShortCountsAreRetriedTransparently() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        let payload = patternBytes(count: 3 << 20 + 17, seed: 9)
        write(Data(payload), to: scratch.at("src"))
        let rules: [FaultInjector.Rule] = [
            .init(syscall: .openat, call: 1, repeats: false, fault: .fail(EINTR)),
            .init(syscall: .read, call: 2, repeats: false, fault: .fail(EINTR)),
            .init(syscall: .write, call: 1, repeats: false, fault: .fail(EINTR)),
            .init(syscall: .write, call: 2, repeats: true, fault: .shortCount(4093)),
            .init(syscall: .read, call: 3, repeats: true, fault: .shortCount(65_537)),
            .init(syscall: .fsync, call: 1, repeats: false, fault: .fail(EINTR)),
            .init(syscall: .renameat, call: 1, repeats: false, fault: .fail(EINTR)),
            .init(syscall: .copyFileRange, call: 1, repeats: false, fault: .fail(EINTR)),
            .init(syscall: .copyFileRange, call: 2, repeats: true, fault: .shortCount(100_003)),
        ]
        for direct in [false, true] {
            let handle = try #require(FileHandle(forReadingAtPath: scratch.at("src")))
            let injector = FaultInjector(rules)
            try injector.run {
                try storage.uploadFile(file: handle, fileName: "f\(direct)", context: "c", directStream: direct)
                #expect(try storage.downloadFile("f\(direct)", context: "c") == Data(payload))
            }
            #expect(injector.injectedCount > 10)
            try handle.close()
        }
        let injector = FaultInjector([.init(syscall: .write, call: 1, repeats: true, fault: .shortCount(1))])
        try injector.run { try storage.uploadFile(file: "byte by byte", fileName: "small", context: "") }
        #expect(try storage.downloadFile("small", context: "") == Data("byte by byte".utf8))
    }

    /// Every error code reachable from errno, through a real operation.
    @Test(arguments: [
        (EACCES, LocalStorageError.Code.permissionDenied), (EPERM, .permissionDenied), (EROFS, .readOnlyFileSystem),
        (ENOSPC, .noSpace), (EDQUOT, .quotaExceeded), (EFBIG, .fileTooLarge), (EIO, .ioError),
        (EMFILE, .tooManyOpenFiles), (ENFILE, .tooManyOpenFiles), (ENOENT, .notFound), (ENOTDIR, .notADirectory),
        (ELOOP, .unsafePath), (ENAMETOOLONG, .invalidName), (EEXIST, .alreadyExists), (EBADF, .sourceUnreadable),
        (ENOMEM, .systemError),
    ])
    func errnoMapsToItsCode(_ code: CInt, _ expected: LocalStorageError.Code) throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: "old", fileName: "f", context: "")
        // ENOENT from the rename means the context was removed under the upload, which is
        // retried (recreating the context) a bounded number of times: fail every attempt.
        let injector = FaultInjector([.init(syscall: .renameat, call: 1, repeats: code == ENOENT, fault: .fail(code))])
        let error = injector.run {
            expectError(expected) { try storage.uploadFile(file: "new", fileName: "f", context: "") }
        }
        #expect(error?.syscall == "renameat")
        #expect(error?.errno == code)
        #expect(error?.path == scratch.at("root/f"))
        #expect(try storage.downloadFile("f", context: "") == Data("old".utf8))
        #expect(tempFiles(in: scratch.at("root")).isEmpty)
    }

    @Test func openat2MissingFallsBackToTheComponentWalk() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try FileManager.default.createDirectory(atPath: scratch.at("outside"), withIntermediateDirectories: true)
        write("sentinel", to: scratch.at("outside/secret"))
        #expect(symlink(scratch.at("outside"), scratch.at("root/evil")) == 0)
        let injector = FaultInjector([.init(syscall: .openat2, call: 1, repeats: true, fault: .fail(ENOSYS))])
        try injector.run {
            try storage.uploadFile(file: "deep", fileName: "f", context: "a/b/c")
            #expect(try storage.downloadFile("f", context: "a/b/c") == Data("deep".utf8))
            #expect(try storage.checkIfExists("f", context: "a/b/c"))
            #expect(try storage.listStoredFiles("a/b/c") == ["f"])
            // The walk meets the planted symlink and refuses it (ELOOP: an unsafe path), for reads,
            // writes and deletes alike; validation is not what stops these (the names are valid).
            for error in [
                expectError(.unsafePath) { try storage.downloadFile("secret", context: "evil") },
                expectError(.unsafePath) { try storage.uploadFile(file: "x", fileName: "secret", context: "evil") },
                expectError(.unsafePath) { try storage.deleteFile("secret", context: "evil") },
            ] {
                #expect(error?.syscall == "openat" && error?.errno == ELOOP, "\(String(describing: error))")
            }
            try storage.deleteFile("f", context: "a/b/c")
        }
        #expect(injector.calls(to: .openat2) == 1)
        #expect(contents(of: scratch.at("outside/secret")) == Data("sentinel".utf8))
    }
    #endif

    /// A full destination is the destination's failure: `.noSpace` naming the caller's
    /// descriptor, not the stored file (which is intact and readable).
    @Test func aFullDestinationIsNotTheStoredFilesFailure() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        try storage.uploadFile(file: Data(count: 100_000), fileName: "b", context: "c")
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        let error = expectError(.noSpace) { try storage.downloadFile("b", context: "c", to: full) }
        #expect(error?.path == nil, "the stored file's path was blamed: \(String(describing: error?.path))")
        #expect(error?.message.contains("descriptor \(full.fileDescriptor)") == true, "\(String(describing: error?.message))")
        #expect(try storage.downloadFile("b", context: "c").count == 100_000)
    }
}
