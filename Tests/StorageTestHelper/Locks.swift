// Child processes for the lock and cache tests: callers that compute, throw, hang or hold a
// lock, and report through marker files in a work directory (created when something happens,
// holding the CLOCK_MONOTONIC time in nanoseconds, which all processes share).
import Foundation
import Glibc
import LocalStorage
import Synchronization

/// CLOCK_MONOTONIC in nanoseconds (system-wide: comparable across processes).
func monotonicNow() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Creates `path` holding the current monotonic time; fails if it exists (each marker is made once).
func mark(_ path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    if fd < 0 { fail("cannot create marker \(path): errno \(errno)") }
    let text = Array("\(monotonicNow())\n".utf8)
    _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// Waits until `path` exists (the test's signal), for a minute at most.
func waitForFile(_ path: String) {
    let deadline = monotonicNow() + 60_000_000_000
    while access(path, F_OK) != 0 {
        if monotonicNow() > deadline { fail("timed out waiting for \(path)") }
        usleep(1000)
    }
}

func milliseconds(_ text: String) -> UInt32 {
    guard let value = UInt32(text) else { fail("not a number of milliseconds: \(text)") }
    return value
}

/// What `cache-race` stores with cachedObject.
struct ComputedRecord: Codable, Equatable {
    var computedBy: String
    var numbers: [Int]
}

/// cache-race <root> <workdir> <id> <threads> <compute-ms> <data|object>
/// Marks ready-<id>, waits for `go`, then each thread asks for one entry; a computation marks
/// computed-<id>-<thread>. Prints "result=<value>" per thread.
func cacheRace(_ arguments: [String]) throws {
    guard arguments.count == 6, let threads = Int(arguments[3]) else {
        fail("usage: cache-race <root> <workdir> <id> <threads> <compute-ms> <data|object>")
    }
    let (work, id, pause, kind) = (arguments[1], arguments[2], milliseconds(arguments[4]), arguments[5])
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    mark("\(work)/ready-\(id)")
    waitForFile("\(work)/go")
    let results = Mutex<[String]>([])
    let group = DispatchGroup()
    for thread in 0..<threads {
        group.enter()
        Thread {
            defer { group.leave() }
            let by = "\(id)-\(thread)"
            do {
                let result: String
                if kind == "object" {
                    let record = try storage.cachedObject(ComputedRecord.self, fileName: "key", context: "c") {
                        mark("\(work)/computed-\(by)")
                        usleep(pause * 1000)
                        return ComputedRecord(computedBy: by, numbers: Array(0..<100))
                    }
                    result = "\(record.computedBy):\(record.numbers.count)"
                } else {
                    let data = try storage.cachedData(fileName: "key", context: "c") {
                        mark("\(work)/computed-\(by)")
                        usleep(pause * 1000)
                        return Data("computed by \(by)".utf8)
                    }
                    result = String(decoding: data, as: UTF8.self)
                }
                results.withLock { $0.append(result) }
            } catch {
                fail("thread \(by): \(error)")
            }
        }.start()
    }
    group.wait()
    for result in results.withLock({ $0 }) { print("result=\(result)") }
}

struct ComputationFailed: Error, CustomStringConvertible {
    var id: String
    var description: String { "computation of \(id) failed" }
}

/// cache-compute <root> <workdir> <id> <ok|throw|hang> <compute-ms>
/// Marks calling-<id>, then asks for the entry; its computation marks computing-<id>, then
/// returns after <compute-ms> (ok), throws once throw-<id> exists (throw), or never ends (hang).
/// Prints "result=<value>" and marks done-<id>, or prints "threw=<error>".
func cacheCompute(_ arguments: [String]) throws {
    guard arguments.count == 5 else { fail("usage: cache-compute <root> <workdir> <id> <ok|throw|hang> <compute-ms>") }
    let (work, id, behavior, pause) = (arguments[1], arguments[2], arguments[3], milliseconds(arguments[4]))
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    mark("\(work)/calling-\(id)")
    do {
        let data = try storage.cachedData(fileName: "key", context: "c") {
            mark("\(work)/computing-\(id)")
            switch behavior {
            case "hang":
                while true { sleep(1) }
            case "throw":
                waitForFile("\(work)/throw-\(id)")
                throw ComputationFailed(id: id)
            default:
                usleep(pause * 1000)
                return Data("computed by \(id)".utf8)
            }
        }
        print("result=\(String(decoding: data, as: UTF8.self))")
        mark("\(work)/done-\(id)")
    } catch let error as ComputationFailed {
        print("threw=\(error)")
    }
}

/// hold-lock <root> <workdir> <context> <name>
/// Takes the lock, marks `holding`, and holds it until killed.
func holdLock(_ arguments: [String]) throws {
    guard arguments.count == 4 else { fail("usage: hold-lock <root> <workdir> <context> <name>") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    try storage.withLock(arguments[3], context: arguments[2]) { () -> Void in
        mark("\(arguments[1])/holding")
        while true { sleep(1) }
    }
}

/// lock-counter <root> <counter-file> <threads> <iterations> <locked|unlocked>
/// Each thread increments a decimal counter in a plain file by read, pause, write, under the
/// lock "counter" of context "c" (or, as the control, without it).
func lockCounter(_ arguments: [String]) throws {
    guard arguments.count == 5, let threads = Int(arguments[2]), let iterations = Int(arguments[3]) else {
        fail("usage: lock-counter <root> <counter-file> <threads> <iterations> <locked|unlocked>")
    }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    let path = arguments[1]
    let locked = arguments[4] == "locked"
    @Sendable func increment() {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 { fail("cannot open \(path)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 20)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 20, 0) }
        let text = String(decoding: buffer[..<max(count, 0)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        let value = Int(text) ?? 0
        usleep(100)  // widens the window a lost update needs
        let next = Array(String(value + 1).padding(toLength: 20, withPad: " ", startingAt: 0).utf8)
        _ = next.withUnsafeBytes { pwrite(fd, $0.baseAddress, 20, 0) }
    }
    let group = DispatchGroup()
    for _ in 0..<threads {
        group.enter()
        Thread {
            defer { group.leave() }
            for _ in 0..<iterations {
                do {
                    if locked { try storage.withLock("counter", context: "c", increment) } else { increment() }
                } catch {
                    fail("withLock: \(error)")
                }
            }
        }.start()
    }
    group.wait()
    print("ok")
}

/// cache-seed <root>: stores the entry "hit" of context "c" (before the root becomes read-only).
func cacheSeed(_ arguments: [String]) throws {
    guard arguments.count == 1 else { fail("usage: cache-seed <root>") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    try storage.uploadFile(file: "seeded", fileName: "hit", context: "c")
}

/// locks-read-only <root>: on a read-only root, a cached hit is served; a miss, withLock and
/// tryLock fail with .readOnlyFileSystem, and compute never runs.
func locksOnReadOnlyRoot(_ arguments: [String]) throws {
    guard arguments.count == 1 else { fail("usage: locks-read-only <root>") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    let hit = try storage.cachedData(fileName: "hit", context: "c") { fail("computed a stored entry") }
    guard hit == Data("seeded".utf8) else { fail("wrong hit: \(hit)") }
    expectFailure(.readOnlyFileSystem, "cachedData miss") {
        _ = try storage.cachedData(fileName: "miss", context: "c") { fail("computed without its lock") }
    }
    expectFailure(.readOnlyFileSystem, "withLock") { try storage.withLock("l", context: "c") {} }
    expectFailure(.readOnlyFileSystem, "tryLock") { _ = try storage.tryLock("l", context: "c") }
    print("ok")
}

/// fork-while-holding <root>: a child forked while a lock is held shares the lock's open file
/// description until it exits or execs; unlocking (or leaving withLock) must release the lock
/// all the same. Prints "after-unlock=<Bool> after-scope=<Bool>": whether the lock was free.
func forkWhileHolding(_ arguments: [String]) throws {
    guard arguments.count == 1 else { fail("usage: fork-while-holding <root>") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    /// A child that only sleeps (async-signal-safe calls only, as after a fork in a threaded process).
    func forkSleeper() -> pid_t {
        let pid = fork()
        if pid == 0 {
            var pause = timespec(tv_sec: 30, tv_nsec: 0)
            nanosleep(&pause, nil)
            _exit(0)
        }
        if pid < 0 { fail("fork failed") }
        return pid
    }
    guard let lock = try storage.tryLock("L", context: "c") else { fail("the lock was not free") }
    let first = forkSleeper()
    lock.unlock()
    let afterUnlock = try storage.tryLock("L", context: "c")
    afterUnlock?.unlock()
    var second: pid_t = 0
    try storage.withLock("M", context: "c") { second = forkSleeper() }
    let afterScope = try storage.tryLock("M", context: "c")
    afterScope?.unlock()
    for child in [first, second] {
        kill(child, SIGKILL)
        var status: CInt = 0
        waitpid(child, &status, 0)
    }
    print("after-unlock=\(afterUnlock != nil) after-scope=\(afterScope != nil)")
}
