import CLocalStorage
import Foundation
import Glibc
import Synchronization
import Testing

@testable import LocalStorage

/// An attacker with write access inside the root races the engine.
@Suite struct AttackTests {
    static let operations = soakCount("LOCALSTORAGE_SWAP_OPERATIONS", default: 20_000)

    /// While the engine uploads, downloads, lists and deletes in a context, another thread keeps
    /// swapping that context's directory with a symlink to a directory outside the root
    /// (renameat2 RENAME_EXCHANGE). Nothing outside is ever read, written or removed.
    @Test func contextSwappedForASymlinkMidOperation() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let outside = scratch.at("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let secret = Data("outside secret".utf8)
        write(secret, to: outside + "/name")
        var before = stat()
        #expect(stat(outside + "/name", &before) == 0)

        try storage.uploadFile(file: "inside", fileName: "name", context: "ctx")
        #expect(symlink(outside, scratch.at("root/swap")) == 0)
        let stop = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)
        let swapper = DispatchSemaphore(value: 0)
        Thread {
            let root = scratch.at("root")
            while !stop.load(ordering: .relaxed) {
                if CLocalStorage_renameat2(AT_FDCWD, root + "/ctx", AT_FDCWD, root + "/swap", CLocalStorage_RENAME_EXCHANGE) == 0 {
                    swaps.add(1, ordering: .relaxed)
                }
            }
            swapper.signal()
        }.start()

        var readSecret = 0, unexpected: [String] = [], refused = 0
        for index in 0..<Self.operations {
            do {
                switch index % 5 {
                case 0: try storage.uploadFile(file: "inside \(index)", fileName: "name", context: "ctx")
                case 1: if try storage.downloadFile("name", context: "ctx") == secret { readSecret += 1 }
                case 2: _ = try storage.checkIfExists("name", context: "ctx")
                case 3: _ = try storage.listStoredFiles("ctx")
                default: try storage.deleteFile("name", context: "ctx")
                }
            } catch let error as LocalStorageError {
                // The symlink is refused (ELOOP from openat2), or the name is missing mid-swap.
                if error.code == .unsafePath || error.code == .notFound { refused += 1 } else { unexpected.append("\(error)") }
            }
        }
        stop.store(true, ordering: .relaxed)
        swapper.wait()

        print("swap: \(Self.operations) operations, \(swaps.load(ordering: .relaxed)) swaps, \(refused) refused")
        #expect(readSecret == 0, "the engine read a file outside the root")
        #expect(unexpected.isEmpty, "\(unexpected.prefix(3))")
        #expect(swaps.load(ordering: .relaxed) > 100, "the swapper barely ran: the race was not exercised")
        #expect(refused > 0, "no operation ever met the symlink")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["name"])
        var after = stat()
        #expect(stat(outside + "/name", &after) == 0)
        #expect(after.st_ino == before.st_ino && after.st_nlink == 1)
        #expect(contents(of: outside + "/name") == secret)
    }

    #if ENABLE_MOCKING
    /// The source path of a move is swapped, right after the engine checked the file it opened
    /// there, for a symlink to an outside file or for another file: nothing is stored, the
    /// previous version stays, the outside file and the swapped-in file are untouched.
    @Test(arguments: [true, false])
    func moveRefusesASourceSwappedMidMove(swapInSymlink: Bool) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        try storage.uploadFile(file: "old", fileName: "m", context: "c")
        let source = scratch.at("incoming"), outside = scratch.at("outside-secret")
        write("incoming", to: source)
        write("secret", to: outside)
        // Just before the engine renames the source name into the context to capture it.
        let hook = FaultInjector.Hook(syscall: .renameat, call: 1) {
            unlink(source)
            if swapInSymlink {
                _ = symlink(outside, source)
            } else {
                _ = FileManager.default.createFile(atPath: source, contents: Data("swapped in".utf8))
            }
        }
        let injector = FaultInjector(hooks: [hook])
        let error = injector.run {
            expectError(.sourceUnreadable) { try storage.uploadFile(movingFileAt: source, fileName: "m", context: "c") }
        }
        #expect(error?.message.contains("replaced") == true)
        // The capture is the only rename: what it caught went back, nothing reached the name.
        #expect(injector.calls(to: .renameat) == 1)
        #expect(try storage.downloadFile("m", context: "c") == Data("old".utf8))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
        #expect(contents(of: outside) == Data("secret".utf8))
        var status = stat()
        #expect(lstat(source, &status) == 0)
        #expect((status.st_mode & S_IFMT) == (swapInSymlink ? S_IFLNK : S_IFREG))
        if !swapInSymlink { #expect(contents(of: source) == Data("swapped in".utf8)) }
    }

    /// Symlinks and hard links planted at the engine's next temp names: O_CREAT|O_EXCL|
    /// O_NOFOLLOW refuses both, the engine moves on to a fresh name, outside files keep their
    /// bytes and inode.
    @Test func linksPlantedAtWouldBeTempNames() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        write("symlink target", to: scratch.at("target1"))
        write("hardlink target", to: scratch.at("target2"))
        try storage.uploadFile(file: "old", fileName: "f", context: "c")
        let planted = [".ls-tmp-planted00000001", ".ls-tmp-planted00000002"]
        #expect(symlink(scratch.at("target1"), scratch.at("root/c/" + planted[0])) == 0)
        #expect(link(scratch.at("target2"), scratch.at("root/c/" + planted[1])) == 0)
        var inode = stat()
        #expect(stat(scratch.at("target2"), &inode) == 0)

        let injector = FaultInjector(tempNames: planted)
        try injector.run { try storage.uploadFile(file: "new", fileName: "f", context: "c") }
        #expect(injector.calls(to: .openat) >= 3)  // two refused names, then a fresh one
        #expect(try storage.downloadFile("f", context: "c") == Data("new".utf8))
        #expect(contents(of: scratch.at("target1")) == Data("symlink target".utf8))
        #expect(contents(of: scratch.at("target2")) == Data("hardlink target".utf8))
        var after = stat()
        #expect(stat(scratch.at("target2"), &after) == 0)
        #expect(after.st_ino == inode.st_ino)

        // Reopening removes the planted hard link's name inside the root (a regular file with the
        // reserved prefix) but never follows the symlink; the outside files are untouched.
        _ = try LocalStorage(storagePath: scratch.at("root"), durability: .noSync)
        #expect(contents(of: scratch.at("target1")) == Data("symlink target".utf8))
        #expect(contents(of: scratch.at("target2")) == Data("hardlink target".utf8))
        #expect(try storage.listStoredFiles("c") == ["f"])
    }
    #endif

    /// Hard links to outside files at a name: replaced by the upload, never written through;
    /// deleting removes only the link.
    @Test func hardLinkAtANameIsNeverWrittenThrough() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        write("outside", to: scratch.at("target"))
        try FileManager.default.createDirectory(atPath: scratch.at("root/c"), withIntermediateDirectories: true)
        #expect(link(scratch.at("target"), scratch.at("root/c/n")) == 0)
        #expect(try storage.downloadFile("n", context: "c") == Data("outside".utf8))  // a link inside is a file
        try storage.withFileWriter(fileName: "n", context: "c") { try $0.write("replaced") }
        #expect(contents(of: scratch.at("target")) == Data("outside".utf8))
        #expect(link(scratch.at("target"), scratch.at("root/c/m")) == 0)
        try storage.deleteFile("m", context: "c")
        #expect(contents(of: scratch.at("target")) == Data("outside".utf8))
    }
}
