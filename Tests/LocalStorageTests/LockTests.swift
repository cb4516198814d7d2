import Foundation
import Glibc
import Synchronization
import Testing

@testable import LocalStorage

/// Named locks across threads and processes: exclusion, release by the kernel when a holder
/// dies, bounded waits, validation, what they leave on disk, planted links, and every syscall
/// they make under fault injection.
@Suite struct LockTests {
    @Test func threadsOfOneProcessExcludeEachOther() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let state = SharedCounters()
        runThreads(8) { _ in
            for _ in 0..<100 {
                do {
                    try storage.withLock("L", context: "c") {
                        if state.inside.add(1, ordering: .relaxed).newValue > 1 { state.overlaps.add(1, ordering: .relaxed) }
                        state.unprotected.value += 1
                        usleep(20)
                        state.inside.subtract(1, ordering: .relaxed)
                    }
                } catch {
                    Issue.record("withLock: \(error)")
                }
            }
        }
        #expect(state.overlaps.load(ordering: .relaxed) == 0)
        #expect(state.unprotected.value == 800)
    }

    /// 3 processes of 3 threads increment a counter in a plain file (read, pause, write) under
    /// one lock: no update is lost. The control, without the lock, loses some: the test can fail.
    @Test func processesAndTheirThreadsExcludeEachOther() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        func run(_ mode: String) throws -> Int {
            let counter = scratch.at("counter-\(mode)")
            write("0", to: counter)
            let children = try (0..<3).map { _ in try Child(helper, ["lock-counter", scratch.at("root"), counter, "3", "100", mode]) }
            for child in children {
                let result = child.finish()
                #expect(result.status == 0, "\(result.errors)")
            }
            let text = String(decoding: contents(of: counter) ?? Data(), as: UTF8.self)
            return Int(text.trimmingCharacters(in: .whitespaces)) ?? -1
        }
        #expect(try run("locked") == 900)
        let control = try run("unlocked")
        #expect(control < 900, "without the lock no update was lost: the test could not tell")
    }

    @Test func tryLockTakesAFreeLockOnlyAndReleasesOnUnlockOrDeinit() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        var first = try storage.tryLock("L", context: "c")
        #expect(first != nil)
        // Held: by this thread through another lock, and for any other thread.
        #expect(try storage.tryLock("L", context: "c") == nil)
        let elsewhere = Shared<Bool?>(nil)
        runThreads(1) { _ in
            do {
                elsewhere.value = try storage.tryLock("L", context: "c") != nil
            } catch {
                Issue.record("tryLock: \(error)")
            }
        }
        #expect(elsewhere.value == false)
        // Other names, other contexts and the cache entry of the same name are other locks.
        #expect(try storage.tryLock("M", context: "c") != nil)
        #expect(try storage.tryLock("L", context: "d") != nil)
        #expect(try storage.tryLock("L", context: "") != nil)
        #expect(try storage.cachedData(fileName: "L", context: "c") { Data("v".utf8) } == Data("v".utf8))
        first?.unlock()
        first?.unlock()  // a second unlock does nothing
        let second = try #require(try storage.tryLock("L", context: "c"))
        #expect(try storage.tryLock("L", context: "c") == nil)
        first = nil
        #expect(try storage.tryLock("L", context: "c") == nil, "releasing an unlocked lock again released another one")
        _ = second
        do {
            // Released when the value goes away.
            let scoped = try storage.tryLock("S", context: "c")
            #expect(scoped != nil)
        }
        #expect(try storage.tryLock("S", context: "c") != nil)
        // Unlocked from another thread.
        let handed = try #require(try storage.tryLock("H", context: "c"))
        runThreads(1) { _ in handed.unlock() }
        #expect(try storage.tryLock("H", context: "c") != nil)
    }

    /// A lock whose holder is SIGKILLed is free at once: a waiter blocked in the kernel wakes,
    /// and a tryLock after the kill succeeds on its first attempt.
    @Test func aLockHeldByAKilledProcessIsFreeAtOnce() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let (root, work) = (scratch.at("root"), scratch.at("work"))
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let storage = try LocalStorage(storagePath: root, durability: .noSync)
        let slot = lockSlot(.named, context: "c", name: "L")

        let holder = try Child(helper, ["hold-lock", root, work, "c", "L"])
        #expect(eventually { FileManager.default.fileExists(atPath: work + "/holding") }, "the holder never took the lock")
        #expect(try storage.tryLock("L", context: "c") == nil)
        holder.kill()
        #expect(holder.finish().reason == .uncaughtSignal)
        let after = try storage.tryLock("L", context: "c")
        #expect(after != nil, "the dead holder's lock was not released at once")
        after?.unlock()

        try FileManager.default.removeItem(atPath: work + "/holding")
        let second = try Child(helper, ["hold-lock", root, work, "c", "L"])
        #expect(eventually { FileManager.default.fileExists(atPath: work + "/holding") }, "the holder never took the lock")
        let acquiredAt = Shared<UInt64?>(nil)
        runThreadsInBackground(1) { _ in
            do {
                try storage.withLock("L", context: "c") { acquiredAt.value = monotonicNow() }
            } catch {
                Issue.record("waiter: \(error)")
            }
        }
        #expect(eventually { kernelLocks(root: root, offset: slot).waiting == 1 }, "the waiter never blocked")
        let killedAt = monotonicNow()
        second.kill()
        _ = second.finish()
        #expect(eventually { acquiredAt.value != nil }, "the waiter was not woken by the holder's death")
        if let acquired = acquiredAt.value {
            #expect(acquired > killedAt)
            print("lock: a waiter got the lock \(Double(acquired - killedAt) / 1e6) ms after its holder was killed")
        }
    }

    /// What the body throws comes out unchanged, and the lock is released all the same.
    @Test func aThrowingBodyReleasesTheLockAndItsErrorPassesUnchanged() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let mine = LocalStorageError(code: .remote, operation: .download, message: "the body's own")
        do {
            try storage.withLock("L", context: "c") { throw mine }
            Issue.record("no error")
        } catch let error as LocalStorageError {
            #expect(error.code == .remote && error.operation == .download && error.message == "the body's own")
        }
        let after = try storage.tryLock("L", context: "c")
        #expect(after != nil, "the lock was left held")
        #expect(lockFileDescriptors(root: storage.getRootPath()) == 1)
        after?.unlock()
        #expect(lockFileDescriptors(root: storage.getRootPath()) == 0)
    }

    /// A child forked while a lock is held keeps a copy of its descriptor (until it exits or
    /// execs); the lock is released at unlock all the same, not when the last copy closes.
    @Test func aChildForkedWhileALockIsHeldDoesNotKeepIt() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let output = try runHelper(helper, ["fork-while-holding", scratch.at("root")])
        #expect(output == "after-unlock=true after-scope=true\n")
    }

    @Test func aBoundedWaitThrowsTimedOutAfterItsTimeout() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let holder = try #require(try storage.tryLock("L", context: "c"))
        let clock = ContinuousClock()
        let start = clock.now
        let error = expectError(.timedOut) { try storage.withLock("L", context: "c", timeout: .milliseconds(30)) {} }
        #expect(clock.now - start >= .milliseconds(30), "gave up before its timeout")
        #expect(error?.operation == .lock)
        expectError(.timedOut) { try storage.withLock("L", context: "c", timeout: .zero) {} }
        // Released meanwhile by another thread: the bounded wait gets it.
        runThreadsInBackground(1) { _ in
            usleep(50_000)
            holder.unlock()
        }
        #expect(try storage.withLock("L", context: "c", timeout: .seconds(30)) { 7 } == 7)
        // Free: no wait at all, even with a zero timeout; a timeout beyond any clock is a wait without end.
        #expect(try storage.withLock("L", context: "c", timeout: .zero) { 8 } == 8)
        #expect(try storage.withLock("L", context: "c", timeout: .seconds(Int64.max)) { 9 } == 9)
        expectError(.invalidArgument) { try storage.withLock("L", context: "c", timeout: .milliseconds(-1)) {} }
    }

    /// Locks are not recursive: waiting for a lock this thread holds would never end, so it
    /// throws at once. Other locks can be taken inside one. (Run on a thread of its own, so
    /// that a regression shows as a failure rather than a hung test run.)
    @Test func waitingForALockThisThreadHoldsThrowsInsteadOfHanging() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let finished = Shared(false)
        runThreadsInBackground(1) { _ in
            do {
                try storage.withLock("A", context: "c") {
                    let error = expectError(.invalidArgument) { try storage.withLock("A", context: "c") {} }
                    #expect(error?.message.contains("not recursive") == true, "\(String(describing: error))")
                    expectError(.invalidArgument) { try storage.withLock("A", context: "c", timeout: .seconds(30)) {} }
                    #expect(try storage.tryLock("A", context: "c") == nil)
                    try storage.withLock("B", context: "c") {
                        try storage.withLock("A", context: "d") {}
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
            finished.value = true
        }
        #expect(eventually { finished.value }, "a thread waiting for its own lock hung")
        // A lock from tryLock may be unlocked by any thread: waiting for it is no error.
        let holder = try #require(try storage.tryLock("A", context: "c"))
        runThreadsInBackground(1) { _ in
            usleep(20_000)
            holder.unlock()
        }
        try storage.withLock("A", context: "c") {}
    }

    @Test func lockNamesAndContextsAreValidatedBeforeAnySyscall() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let badNames = NameAndContainmentTests.badNames + [".ls-meta", ".ls-x"]
        let badContexts = NameAndContainmentTests.badContexts + [".ls-meta", "a/.ls-meta"]
        func check(_ name: String, _ context: String) {
            #if ENABLE_MOCKING
            let injector = FaultInjector()
            injector.run { checkRejected(name, context) }
            for syscall in Syscall.allCases {
                #expect(injector.calls(to: syscall) == 0, "\(syscall) called for \(name.debugDescription) in \(context.debugDescription)")
            }
            #else
            checkRejected(name, context)
            #endif
        }
        func checkRejected(_ name: String, _ context: String) {
            let error = expectError(.invalidName) { try storage.withLock(name, context: context) {} }
            #expect(error?.operation == .lock)
            expectError(.invalidName) { try storage.tryLock(name, context: context) }
        }
        for name in badNames { check(name, "c") }
        for context in badContexts { check("L", context) }
        // A 255-byte name is fine.
        try storage.withLock(String(repeating: "n", count: 255), context: "c") {}
    }

    /// Locks leave one empty file behind, whatever the number of names ever locked; nothing of
    /// them is listed, no context is created, and nothing stays locked.
    @Test func tenThousandLockNamesLeaveABoundedFootprint() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let root = storage.getRootPath()
        /// Every entry under the root with its size and allocated blocks.
        func footprint() -> [String: [Int]] {
            var entries: [String: [Int]] = [:]
            let walker = FileManager.default.enumerator(atPath: root)
            while let path = walker?.nextObject() as? String {
                var status = stat()
                if lstat(root + "/" + path, &status) == 0 { entries[path] = [Int(status.st_size), Int(status.st_blocks)] }
            }
            return entries
        }
        try storage.withLock("first", context: "c") {}
        let before = footprint()
        #expect(before[lockFilePath] == [0, 0], "the lock file holds data: \(before)")
        for index in 0..<10_000 {
            try storage.withLock("lock-\(index)", context: "context-\(index % 10)") {}
        }
        // 100 held at once: distinct names do not collide.
        var held: [StorageLock?] = []
        for index in 0..<100 { held.append(try storage.tryLock("held-\(index)", context: "c")) }
        #expect(held.allSatisfy { $0 != nil })
        held.forEach { $0?.unlock() }

        let after = footprint()
        #expect(after == before, "locks left something behind: \(after)")
        #expect(!after.keys.contains { $0.hasPrefix("c") }, "a context was created: \(after)")
        #expect(try storage.listStoredFiles("") == [])
        #expect(try storage.listStoredFiles("context-0") == [])
        #expect(kernelLocks(root: root, offset: nil).held == 0, "locks were left held")
    }

    @Test func plantedLinksAndFilesAtTheLockFileAreRefused() throws {
        let scratch = Scratch()
        let storage = try scratch.storage()
        let root = storage.getRootPath()
        let outside = scratch.at("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        write("precious", to: outside + "/file")

        // A link at .ls-meta, to a directory and dangling.
        try FileManager.default.createSymbolicLink(atPath: root + "/.ls-meta", withDestinationPath: outside)
        expectError(.unsafePath) { try storage.withLock("L", context: "c") {} }
        expectError(.unsafePath) { try storage.tryLock("L", context: "c") }
        let cached = expectError(.unsafePath) { try storage.cachedData(fileName: "f", context: "c") { Data("computed".utf8) } }
        #expect(cached?.operation == .cache)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["file"])
        try FileManager.default.removeItem(atPath: root + "/.ls-meta")
        try FileManager.default.createSymbolicLink(atPath: root + "/.ls-meta", withDestinationPath: scratch.at("nowhere"))
        expectError(.unsafePath) { try storage.withLock("L", context: "c") {} }
        #expect(!FileManager.default.fileExists(atPath: scratch.at("nowhere")))
        try FileManager.default.removeItem(atPath: root + "/.ls-meta")

        // A link at the lock file, to a file and dangling.
        try FileManager.default.createDirectory(atPath: root + "/.ls-meta", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: root + "/.ls-meta/locks", withDestinationPath: outside + "/file")
        expectError(.unsafePath) { try storage.withLock("L", context: "c") {} }
        #expect(contents(of: outside + "/file") == Data("precious".utf8))
        try FileManager.default.removeItem(atPath: root + "/.ls-meta/locks")
        try FileManager.default.createSymbolicLink(atPath: root + "/.ls-meta/locks", withDestinationPath: outside + "/new")
        expectError(.unsafePath) { try storage.tryLock("L", context: "c") }
        #expect(!FileManager.default.fileExists(atPath: outside + "/new"))
        try FileManager.default.removeItem(atPath: root + "/.ls-meta/locks")

        // Something else at the lock file: a directory, a FIFO (which must not block the open).
        try FileManager.default.createDirectory(atPath: root + "/.ls-meta/locks", withIntermediateDirectories: false)
        expectError(.notARegularFile) { try storage.withLock("L", context: "c") {} }
        try FileManager.default.removeItem(atPath: root + "/.ls-meta/locks")
        #expect(mkfifo(root + "/.ls-meta/locks", 0o644) == 0)
        expectError(.notARegularFile) { try storage.withLock("L", context: "c") {} }
        try FileManager.default.removeItem(atPath: root + "/.ls-meta/locks")
        try FileManager.default.removeItem(atPath: root + "/.ls-meta")

        // A file at .ls-meta.
        write("x", to: root + "/.ls-meta")
        expectError(.notADirectory) { try storage.withLock("L", context: "c") {} }
        try FileManager.default.removeItem(atPath: root + "/.ls-meta")

        // And once the plants are gone, locks work.
        try storage.withLock("L", context: "c") {}
        #expect(lockFileDescriptors(root: root) == 0)
    }

    @Test(.enabled(if: ChildProcessTests.privateTmpfsWorks, "needs root and /usr/bin/unshare to mount a private read-only tmpfs"))
    func onAReadOnlyRootLocksFailWithATypedErrorAndHitsAreServed() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let mountPoint = scratch.at("ro")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let script =
            "mount -t tmpfs -o size=1m tmpfs '\(mountPoint)' && '\(helper)' cache-seed '\(mountPoint)/root'"
            + " && mount -o remount,ro '\(mountPoint)' && exec '\(helper)' locks-read-only '\(mountPoint)/root'"
        let child = try Child("/usr/bin/unshare", ["-m", "sh", "-c", script])
        let result = child.finish()
        #expect(result.status == 0, "\(result.output) \(result.errors)")
        #expect(result.output.components(separatedBy: "readOnlyFileSystem").count - 1 == 3, "\(result.output)")
        #expect(result.output.contains("ok"))
    }
}

#if ENABLE_MOCKING
/// Every syscall the lock calls make, at every call index, on a fresh root (which creates
/// `.ls-meta` and the lock file) and on one with them: EINTR is retried, any other errno is a
/// `LocalStorageError` naming that syscall and errno with its mapped code, a failed unlock or
/// close still releases, and afterwards the lock is free and no descriptor of it is left open.
extension LockTests {
    enum LockCall: String, CaseIterable, Sendable {
        case withLock, withLockTimeout, tryLock
    }

    static let injectedErrnos: [CInt] = [EIO, ENOLCK, EROFS, EACCES, EPERM, ENOMEM, ENOSPC]

    @Test(arguments: LockCall.allCases, [true, false])
    func everyLockSyscallRetriesEINTRAndMapsItsErrno(_ call: LockCall, freshRoot: Bool) throws {
        func setUp() throws -> (Scratch, LocalStorage) {
            let scratch = Scratch()
            let storage = try scratch.storage()
            if !freshRoot { try storage.withLock("warm", context: "c") {} }
            return (scratch, storage)
        }
        /// True once the lock was taken and released.
        func perform(_ storage: LocalStorage) throws -> Bool {
            switch call {
            case .withLock: return try storage.withLock("L", context: "c") { true }
            case .withLockTimeout: return try storage.withLock("L", context: "c", timeout: .seconds(30)) { true }
            case .tryLock:
                let lock = try storage.tryLock("L", context: "c")
                lock?.unlock()
                return lock != nil
            }
        }
        let (cleanScratch, cleanStorage) = try setUp()
        let clean = FaultInjector()
        #expect(try clean.run { try perform(cleanStorage) })
        _ = cleanScratch
        let sites = Syscall.allCases.flatMap { syscall in (0..<clean.calls(to: syscall)).map { (syscall, $0 + 1) } }
        #expect(clean.calls(to: call == .withLock ? .ofdSetLockWait : .ofdSetLock) >= 1)
        #expect(clean.calls(to: .mkdirat) == (freshRoot ? 1 : 0))

        for (syscall, index) in sites {
            // The last F_OFD_SETLK is the unlock; it and the close after it may fail harmlessly.
            let releasing = syscall == .close || (syscall == .ofdSetLock && index == clean.calls(to: .ofdSetLock))
            for code in [EINTR] + Self.injectedErrnos {
                let label = "\(call) fresh=\(freshRoot) \(syscall.rawValue) #\(index) \(Errno(rawValue: code).name)"
                let (scratch, storage) = try setUp()
                let injector = FaultInjector([.init(syscall: syscall, call: index, repeats: false, fault: .fail(code))])
                let outcome = injector.run { Result { try perform(storage) } }
                #expect(injector.injectedCount == 1, "\(label): the call was never reached")
                let heldElsewhere = syscall == .ofdSetLock && !releasing && code == EACCES
                // EPERM from openat2 is a seccomp filter's refusal: the component walk takes over.
                let refused = syscall == .openat2 && code == EPERM
                switch outcome {
                case .success(let acquired):
                    #expect(code == EINTR || releasing || heldElsewhere || refused, "\(label): succeeded despite the failure")
                    // EACCES from F_OFD_SETLK means "held": tryLock says nil, a bounded wait tries again.
                    #expect(acquired == !(heldElsewhere && call == .tryLock), "\(label)")
                case .failure(let error as LocalStorageError):
                    #expect(code != EINTR && !releasing && !heldElsewhere && !refused, "\(label): failed: \(error)")
                    #expect(error.code == LocalStorageError.Code(mapping: Errno(rawValue: code), from: syscall), "\(label): \(error)")
                    #expect(error.syscall == syscall.rawValue && error.errno == code && error.operation == .lock, "\(label): \(error)")
                case .failure(let error):
                    Issue.record("\(label): not a LocalStorageError: \(error)")
                }
                let root = storage.getRootPath()
                #expect(lockFileDescriptors(root: root) == 0, "\(label): a descriptor of the lock file was left open")
                let after = try storage.tryLock("L", context: "c")
                #expect(after != nil, "\(label): the lock was left held")
                after?.unlock()
                _ = scratch
            }
        }
        print("lock faults, \(call) fresh=\(freshRoot): \(sites.count) call sites x \(Self.injectedErrnos.count + 1) errnos")
    }
}
#endif

// MARK: - Support for the lock and cache tests

/// Counters shared by threads.
final class SharedCounters: Sendable {
    let inside = Atomic<Int>(0)
    let overlaps = Atomic<Int>(0)
    let computations = Atomic<Int>(0)
    /// Touched only under the lock being tested: a lost update means the lock failed.
    let unprotected = UnprotectedBox()
}

final class UnprotectedBox: @unchecked Sendable {
    var value = 0
}

/// A value shared by threads, behind a mutex.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
    func update<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// Runs `body` on `count` threads of their own and waits for all of them.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// Starts `body` on `count` threads of their own, without waiting.
func runThreadsInBackground(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    for index in 0..<count { Thread { body(index) }.start() }
}

/// Polls `condition` every 2 ms for `seconds` at most (a guard against hangs, not a speed
/// target); true once it holds.
func eventually(within seconds: Double = 60, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicNow() + UInt64(seconds * 1e9)
    while !condition() {
        if monotonicNow() > deadline { return false }
        usleep(2000)
    }
    return true
}

/// CLOCK_MONOTONIC in nanoseconds, as the helper's markers hold it.
func monotonicNow() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// The open file description locks the kernel lists (/proc/locks) on the lock file of `root`,
/// on byte `offset` (nil: any byte): granted, and waiting to be.
func kernelLocks(root: String, offset: off_t?) -> (held: Int, waiting: Int) {
    var status = stat()
    guard stat(root + "/" + lockFilePath, &status) == 0,
        let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8)
    else { return (0, 0) }
    var held = 0
    var waiting = 0
    for line in table.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let device = fields.firstIndex(where: { $0.hasSuffix(":\(status.st_ino)") && $0.split(separator: ":").count == 3 }),
            device + 1 < fields.count, fields.contains("OFDLCK")
        else { continue }
        if let offset, fields[device + 1] != "\(offset)" { continue }
        if fields.count > 1 && fields[1] == "->" { waiting += 1 } else { held += 1 }
    }
    return (held, waiting)
}

/// How many descriptors of this process are open on the lock file of `root`.
func lockFileDescriptors(root: String) -> Int {
    let path = root + "/" + lockFilePath
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }.count
}

/// A helper child process whose output is collected once it ends.
final class Child: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

    /// Waits for the end (killing the child after `seconds`, a guard against hangs) and returns
    /// its status and output.
    func finish(within seconds: Double = 120, sourceLocation: SourceLocation = #_sourceLocation)
        -> (status: Int32, reason: Process.TerminationReason, output: String, errors: String)
    {
        if !eventually(within: seconds, { !process.isRunning }) {
            Issue.record("the child \(process.arguments ?? []) did not finish: killed", sourceLocation: sourceLocation)
            kill()
        }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, process.terminationReason, text, errorText)
    }
}
