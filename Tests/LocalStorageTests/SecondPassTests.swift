// Issue 8's bugs, one test each (each failed on the engine before its fix), plus the unusual
// kernels and callers: seccomp denying openat2, non-blocking handles, an upload racing
// `rm -rf` of its context, messages, the root at "/", `..` after a symlink.
import CLocalStorage
import Foundation
import Glibc
import Synchronization
import Testing

@testable import LocalStorage

@Suite struct SecondPassTests {
    // MARK: Moves

    /// 1. A stored file moved onto its own name stays stored and intact (also through a
    /// symlinked alias of the root, and with a second hard link elsewhere).
    @Test(arguments: ["direct", "alias", "hardLinked"])
    func moveOntoItsOwnNameKeepsTheFile(_ variant: String) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        try storage.uploadFile(file: "model bytes", fileName: "m.bin", context: "c")
        var source = scratch.at("root/c/m.bin")
        if variant == "alias" {
            #expect(symlink(scratch.at("root"), scratch.at("alias")) == 0)
            source = scratch.at("alias/c/m.bin")
        } else if variant == "hardLinked" {
            #expect(link(source, scratch.at("other-link")) == 0)
        }
        try storage.uploadFile(movingFileAt: source, fileName: "m.bin", context: "c")
        #expect(try storage.checkIfExists("m.bin", context: "c"))
        #expect(try storage.downloadFile("m.bin", context: "c") == Data("model bytes".utf8))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
        // The next open's sweep has nothing to take.
        #expect(try LocalStorage(storagePath: scratch.at("root")).removeOrphanedTempFiles() == 0)
        #expect(try storage.downloadFile("m.bin", context: "c") == Data("model bytes".utf8))
    }

    /// 3. A failed move leaves the source exactly as it was: path, content and mode (0600), for
    /// a rename onto a directory and for a copy that runs out of space.
    @Test func failedMoveLeavesTheSourceAsItWas() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fullSync)
        #expect(mkdir(scratch.at("root/c"), 0o755) == 0 && mkdir(scratch.at("root/c/taken"), 0o755) == 0)
        let source = scratch.at("incoming")
        write("precious", to: source)
        #expect(chmod(source, 0o600) == 0)
        expectError(.notARegularFile) { try storage.uploadFile(movingFileAt: source, fileName: "taken", context: "c") }
        #expect(contents(of: source) == Data("precious".utf8))
        #expect(mode(of: source) == 0o600)
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)

        // Across file systems (/dev/shm), the kernel-side copy fails with ENOSPC.
        let shm = Scratch(in: "/dev/shm")
        let remote = shm.at("incoming")
        write("precious too", to: remote)
        #expect(chmod(remote, 0o600) == 0)
        #if ENABLE_MOCKING
        let injector = FaultInjector([
            .init(syscall: .copyFileRange, call: 1, repeats: true, fault: .fail(ENOSPC)),
            .init(syscall: .write, call: 1, repeats: true, fault: .fail(ENOSPC)),
        ])
        injector.run {
            expectError(.noSpace) { try storage.uploadFile(movingFileAt: remote, fileName: "m", context: "c") }
        }
        #expect(contents(of: remote) == Data("precious too".utf8))
        #expect(mode(of: remote) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: scratch.at("root/c/m")))
        #endif
    }

    #if ENABLE_MOCKING
    /// 4. A file renamed onto the source path after a copying move stored its copy is never
    /// removed: the move captures the name, sees another file, and puts it back.
    @Test func moveNeverRemovesAFileSwappedInAtTheSourcePath() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let shm = Scratch(in: "/dev/shm")
        let source = shm.at("incoming")
        write("moved", to: source)
        // renameat #1: the capture of the source into the root (EXDEV: another file system);
        // #2: the commit of the copy; #3: the capture of the source name for its removal.
        let hook = FaultInjector.Hook(syscall: .renameat, call: 3) {
            unlink(source)
            _ = FileManager.default.createFile(atPath: source, contents: Data("someone else's".utf8))
        }
        let injector = FaultInjector(hooks: [hook])
        try injector.run { try storage.uploadFile(movingFileAt: source, fileName: "m", context: "c") }
        #expect(injector.calls(to: .renameat) >= 3)
        #expect(try storage.downloadFile("m", context: "c") == Data("moved".utf8))
        #expect(contents(of: source) == Data("someone else's".utf8))
        #expect(tempFiles(in: shm.path).isEmpty)
    }
    #endif

    /// 5. A source with another hard link is copied, never linked: the stored file shares no
    /// inode with a name outside the root, so writing through that name changes nothing stored.
    @Test func hardLinkedSourceIsCopied() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let source = scratch.at("incoming"), other = scratch.at("other-name")
        write("original", to: source)
        #expect(link(source, other) == 0)
        try storage.uploadFile(movingFileAt: source, fileName: "m", context: "c")
        #expect(!FileManager.default.fileExists(atPath: source))
        var stored = stat(), outside = stat()
        #expect(stat(scratch.at("root/c/m"), &stored) == 0 && stat(other, &outside) == 0)
        #expect(stored.st_ino != outside.st_ino)
        let handle = try #require(FileHandle(forWritingAtPath: other))
        try handle.write(contentsOf: Data("CHANGED!".utf8))
        try handle.close()
        #expect(try storage.downloadFile("m", context: "c") == Data("original".utf8))
    }

    /// 6. A move does not wait for a lock someone else holds on the source.
    @Test func moveDoesNotWaitForALockOnTheSource() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let source = scratch.at("incoming")
        write("locked by the caller", to: source)
        let holder = open(source, O_RDONLY | O_CLOEXEC)
        #expect(holder >= 0 && flock(holder, LOCK_EX) == 0)
        defer { close(holder) }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<String, any Error>?>(nil)
        Thread.detachNewThread {
            let result = Result { try storage.uploadFile(movingFileAt: source, fileName: "m", context: "c") }
            outcome.withLock { $0 = result }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 20) == .success, "the move blocked on the caller's lock")
        #expect(try outcome.withLock { try $0?.get() } == "m")
        #expect(try storage.downloadFile("m", context: "c") == Data("locked by the caller".utf8))
        #expect(!FileManager.default.fileExists(atPath: source))
    }

    // MARK: Writer

    #if ENABLE_MOCKING
    /// 2. A write that fails part-way (ENOSPC after a short write) fails the writer: later
    /// writes throw, and the scope commits nothing even though the closure caught the error.
    @Test func failedWriterCommitsNothingEvenIfTheErrorWasCaught() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        try storage.uploadFile(file: "old", fileName: "w", context: "c")
        // The 100 KiB write flushes the 200 KiB buffer (write #1, moved partly), then fails.
        let injector = FaultInjector([
            .init(syscall: .write, call: 1, repeats: false, fault: .shortCount(70_000)),
            .init(syscall: .write, call: 2, repeats: true, fault: .fail(ENOSPC)),
        ])
        var caught: LocalStorageError?
        var later: LocalStorageError?
        let error = injector.run {
            expectError(.noSpace) {
                try storage.withFileWriter(fileName: "w", context: "c") { writer in
                    try writer.write(Data(repeating: 1, count: 200 << 10))
                    do { try writer.write(Data(repeating: 2, count: 100 << 10)) } catch let error as LocalStorageError { caught = error }
                    do { try writer.write("Z") } catch let error as LocalStorageError { later = error }
                }
            }
        }
        #expect(caught?.code == .noSpace)
        #expect(later?.code == .noSpace, "a write after the failure was accepted")
        #expect(error?.code == .noSpace)
        #expect(try storage.downloadFile("w", context: "c") == Data("old".utf8))
        #expect(tempFiles(in: scratch.at("root/c")).isEmpty)
    }
    #endif

    // MARK: Sweep

    /// 7. The sweep holds a bounded number of descriptors: under RLIMIT_NOFILE 32, 1,500
    /// contexts each holding an orphan are all swept (it used to keep one descriptor per
    /// pending directory and give up at the limit).
    @Test func sweepCollectsEveryOrphanUnderATinyFileLimit() throws {
        let helper = try #require(helperExecutable(), "StorageTestHelper was not built next to the tests")
        let scratch = Scratch()
        let root = scratch.at("root")
        for index in 0..<1_500 {
            let directory = root + "/ctx\(index % 50)/sub\(index)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            write("orphan", to: directory + "/.ls-tmp-00000000000000aa")
        }
        let output = try runHelper(helper, ["sweep-nofile", root, "32"])
        #expect(output.contains("removed=1500"), "\(output)")
        let left = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.contains(".ls-tmp-") } ?? []
        #expect(left.isEmpty, "\(left.prefix(3))")
    }

    /// 7. Opening a storage walks at most `openSweepBudget` directories on the caller's thread;
    /// a larger tree is swept in the background, and every orphan is still collected.
    @Test func openSweepsALargeTreeInTheBackground() throws {
        let scratch = Scratch()
        let root = scratch.at("root")
        let deep = root + "/d\(openSweepBudget + 50)"
        for index in 0...(openSweepBudget + 50) {
            try FileManager.default.createDirectory(atPath: root + "/d\(index)", withIntermediateDirectories: true)
        }
        for directory in [root + "/d0", deep] { write("orphan", to: directory + "/.ls-tmp-00000000000000bb") }
        #if ENABLE_MOCKING
        // The caller's thread reads at most the budget's directories (two getdents64 each: the
        // entries, then the end); the background thread is not the task's, so not counted.
        let injector = FaultInjector()
        _ = try injector.run { try LocalStorage(storagePath: root, durability: .noSync) }
        #expect(
            injector.calls(to: .getdents64) <= 2 * openSweepBudget, "the open walked \(injector.calls(to: .getdents64) / 2) directories")
        #else
        _ = try LocalStorage(storagePath: root, durability: .noSync)
        #endif
        var waited = 0
        while !tempFiles(in: deep).isEmpty || !tempFiles(in: root + "/d0").isEmpty, waited < 200 {
            usleep(50_000)
            waited += 1
        }
        #expect(tempFiles(in: deep).isEmpty && tempFiles(in: root + "/d0").isEmpty, "an orphan was never collected")
        #expect(try LocalStorage(storagePath: root, durability: .noSync).listStoredFiles("") == [])
    }

    /// 8. Orphans under a directory whose name is not valid UTF-8 are collected (the walk goes
    /// by bytes).
    @Test func sweepWalksNamesThatAreNotUTF8() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        var path = Array(scratch.at("root/").utf8)
        path += [0x66, 0xff, 0xfe]  // "f" then bytes that are not UTF-8
        let directory = path.map { CChar(bitPattern: $0) } + [0]
        #expect(mkdir(directory, 0o755) == 0)
        let orphan = path.map { CChar(bitPattern: $0) } + Array("/.ls-tmp-00000000000000cc".utf8CString)
        let fd = open(orphan, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(fd >= 0 && write(fd, "x", 1) == 1)
        close(fd)
        #expect(try storage.removeOrphanedTempFiles() == 1)
        #expect(access(orphan, F_OK) != 0)
    }

    // MARK: Reader, preallocation, refusals

    /// 9. Bad offsets and counts are `.invalidArgument`, never a trap or EINVAL.
    @Test func readerRejectsNegativeOffsetsAndCounts() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        try storage.uploadFile(file: "0123456789", fileName: "r", context: "")
        let reader = try storage.openReader("r", context: "")
        expectError(.invalidArgument) { try reader.read(upToCount: 10, at: Int.min) }
        expectError(.invalidArgument) { try reader.read(upToCount: 10, at: -1) }
        expectError(.invalidArgument) { try reader.read(upToCount: -1, at: 0) }
        #expect(try reader.read(upToCount: 10, at: Int.max) == Data())
        #expect(try reader.read(upToCount: Int.max, at: 8) == Data("89".utf8))
    }

    #if ENABLE_MOCKING
    /// 10. A source truncated during the copy leaves no preallocated space behind.
    @Test func shrinkingSourceGivesBackItsReservation() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let source = scratch.at("big")
        #expect(FileManager.default.createFile(atPath: source, contents: Data(repeating: 7, count: 64 << 20)))
        let hook = FaultInjector.Hook(syscall: .copyFileRange, call: 1) { _ = truncate(source, 1024) }
        let handle = try #require(FileHandle(forReadingAtPath: source))
        let outcome = try FaultInjector(hooks: [hook]).run {
            try storage.uploadStream(fromDescriptor: handle.fileDescriptor, fileName: "s", context: "", direct: true)
        }
        #expect(outcome.bytes == 1024)
        var status = stat()
        #expect(stat(scratch.at("root/s"), &status) == 0)
        #expect(status.st_size == 1024)
        #expect(Int(status.st_blocks) * 512 < 1 << 20, "\(Int(status.st_blocks) * 512) bytes allocated for 1 KiB")
    }
    #endif

    /// 11. Exports to an O_APPEND handle and into the stored file itself do not make later
    /// same-file-system uploads fall back to the read/write loop.
    @Test func oddExportsDoNotSlowLaterUploads() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let payload = Data(repeating: 3, count: 256 << 10)
        try storage.uploadFile(file: payload, fileName: "e", context: "")
        let appendFD = open(scratch.at("appended"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        try #require(appendFD != -1, "could not open the append-only destination")
        #expect(try storage.exportStream("e", context: "", toDescriptor: appendFD).bytes == payload.count)
        close(appendFD)
        let selfFD = open(scratch.at("root/e"), O_WRONLY | O_CLOEXEC)
        #expect(lseek(selfFD, 0, SEEK_END) == off_t(payload.count))
        #expect(try storage.exportStream("e", context: "", toDescriptor: selfFD).bytes == payload.count)
        close(selfFD)
        #expect(contents(of: scratch.at("appended")) == payload)
        write(payload, to: scratch.at("source"))
        let handle = try #require(FileHandle(forReadingAtPath: scratch.at("source")))
        let outcome = try storage.uploadStream(fromDescriptor: handle.fileDescriptor, fileName: "u", context: "", direct: true)
        #expect(outcome.path == .copyFileRange || outcome.path == .reflink, "later upload took \(outcome.path)")
    }

    // MARK: Unusual kernels and callers

    /// openat2 denied with EPERM by a seccomp filter (in a child): every operation works through
    /// the component walk.
    @Test func seccompDenyingOpenat2FallsBackToTheWalk() throws {
        let helper = try #require(helperExecutable(), "StorageTestHelper was not built next to the tests")
        let scratch = Scratch()
        #expect(try runHelper(helper, ["seccomp-openat2", scratch.at("root")]).contains("ok"))
    }

    /// Non-blocking pipes as an upload source and an export destination: readiness is waited
    /// for, nothing fails with EAGAIN.
    @Test(arguments: [true, false])
    func nonBlockingHandlesAreWaitedOn(direct: Bool) throws {
        // A failing upload closes the pipe under the feeder: an EPIPE, not a killed test run.
        signal(SIGPIPE, SIG_IGN)
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let payload = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        // Upload from a non-blocking pipe fed slowly.
        let (readEnd, writeEnd) = try nonBlockingPipe()
        let feeder = Thread {
            var offset = 0
            while offset < payload.count {
                let chunk = min(100_000, payload.count - offset)
                let written = payload.withUnsafeBytes { write(writeEnd, $0.baseAddress! + offset, chunk) }
                if written > 0 { offset += written } else { usleep(2_000) }
            }
            close(writeEnd)
        }
        feeder.start()
        let input = FileHandle(fileDescriptor: readEnd, closeOnDealloc: true)
        try storage.uploadFile(file: input, fileName: "nb", context: "", directStream: direct)
        #expect(try storage.downloadFile("nb", context: "") == payload)

        // Export into a non-blocking pipe drained slowly.
        let out = try nonBlockingPipe()
        let received = Mutex(Data())
        let drainer = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let got = read(out.0, &buffer, buffer.count)
                if got > 0 { received.withLock { $0.append(contentsOf: buffer[..<got]) } } else if got == 0 { break } else { usleep(1_000) }
            }
        }
        drainer.start()
        let written = try storage.downloadFile("nb", context: "", to: FileHandle(fileDescriptor: out.1, closeOnDealloc: false))
        close(out.1)
        var waited = 0
        while received.withLock({ $0.count }) < payload.count && waited < 500 { usleep(10_000); waited += 1 }
        #expect(written == payload.count)
        #expect(received.withLock { $0 } == payload)
        close(out.0)
    }

    /// Uploads racing `rm -rf` of their context (every half millisecond): recreated and
    /// retried, nothing escapes the root.
    @Test func uploadsSurviveTheirContextBeingRemoved() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let context = scratch.at("root/ctx")
        let stop = Atomic<Bool>(false)
        let remover = Thread {
            while !stop.load(ordering: .relaxed) {
                try? FileManager.default.removeItem(atPath: context)
                usleep(500)
            }
        }
        remover.start()
        var failures: [String] = []
        for index in 0..<300 {
            do {
                try storage.uploadFile(file: "v\(index)", fileName: "f\(index % 7)", context: "ctx/sub")
            } catch {
                failures.append("\(error)")
            }
        }
        stop.store(true, ordering: .relaxed)
        usleep(50_000)
        // The retries are bounded (an rm -rf winning every round can still fail an upload), so
        // the bound is a rate: about 11% (33 of 300) failed before the retry; a few in a thousand
        // now on a quiet machine, and up to 13 of 300 seen with four compilers sharing two cores
        // (the remover then wins more rounds). Half the old rate still tells the two apart.
        print("uploads racing rm -rf: \(failures.count) of 300 failed")
        #expect(failures.count <= 16, "\(failures.count) uploads failed: \(failures.prefix(2))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["root"])
    }

    /// Messages name the offending component and its position; a root that cannot be created
    /// reports the mkdirat that failed; paths under the root "/" have one slash.
    @Test func messagesSayWhatIsWrong() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let empty = expectError(.invalidName) { try storage.uploadFile(file: "x", fileName: "f", context: "a/") }
        #expect(empty?.message == "context 'a/' component 2 of 2 is empty")
        let dot = expectError(.invalidName) { try storage.checkIfExists("f", context: "./a") }
        #expect(dot?.message == "context './a' component 1 of 2 is '.'")
        let reserved = expectError(.invalidName) { try storage.listStoredFiles("x/.ls-meta") }
        #expect(reserved?.message.contains("component 2 of 2 starts with '.ls-'") == true)

        let atRoot = try LocalStorage(storagePath: "/", durability: .noSync, removeOrphanedTempFiles: false)
        #expect(atRoot.getRootPath() == "/")
        let missing = expectError(.notFound) { try atRoot.downloadFile("no-such-file-\(getpid())", context: "no-such-context-x") }
        #expect(missing?.path == "/no-such-context-x/no-such-file-\(getpid())")
    }

    #if ENABLE_MOCKING
    /// A root that cannot be created: the mkdirat error, not the ENOENT of the open after it.
    @Test func uncreatableRootReportsTheMkdirFailure() throws {
        let scratch = Scratch()
        let injector = FaultInjector([.init(syscall: .mkdirat, call: 1, repeats: true, fault: .fail(EACCES))])
        let error = injector.run {
            expectError(.permissionDenied) { try LocalStorage(storagePath: scratch.at("new/root")) }
        }
        #expect(error?.syscall == "mkdirat")
    }
    #endif

    /// `..` after a symlink in the storage path means what it means to the kernel: the parent
    /// of the link's target.
    @Test func dotDotAfterASymlinkResolvesAsTheKernelDoes() throws {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.at("real/inner"), withIntermediateDirectories: true)
        #expect(symlink(scratch.at("real/inner"), scratch.at("jump")) == 0)
        let storage = try LocalStorage(storagePath: scratch.at("jump/../target"), durability: .noSync)
        #expect(storage.getRootPath() == scratch.at("real/target"))
        try storage.uploadFile(file: "here", fileName: "f", context: "")
        #expect(contents(of: scratch.at("real/target/f")) == Data("here".utf8))
        #expect(!FileManager.default.fileExists(atPath: scratch.at("target")))
    }
}

/// A pipe whose both ends are O_NONBLOCK.
private func nonBlockingPipe() throws -> (CInt, CInt) {
    var ends: [CInt] = [-1, -1]
    try #require(CLocalStorage_pipe2(&ends, O_CLOEXEC | O_NONBLOCK) == 0)
    return (ends[0], ends[1])
}

private func mode(of path: String) -> mode_t? {
    var status = stat()
    return stat(path, &status) == 0 ? status.st_mode & 0o7777 : nil
}
