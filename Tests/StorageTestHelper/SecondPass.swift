import CStorageTestSupport
import Foundation
import Glibc
import LocalStorage

/// `sweep-nofile <root> <limit>`: under RLIMIT_NOFILE of `limit`, removes the orphans under
/// `root` and prints "removed=<n>".
func sweepUnderFileLimit(_ arguments: [String]) throws {
    guard arguments.count == 2, let limit = rlim_t(arguments[1]) else { fail("usage: sweep-nofile <root> <limit>") }
    var bound = rlimit(rlim_cur: limit, rlim_max: limit)
    guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &bound) == 0 else { fail("setrlimit: \(errno)") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync, removeOrphanedTempFiles: false)
    print("removed=\(try storage.removeOrphanedTempFiles())")
}

/// `seccomp-openat2 <root>`: denies openat2 with EPERM through a seccomp filter, as Docker
/// before 20.10 and systemd's SystemCallFilter= do, then uses the storage in a nested context;
/// prints "ok" when every operation worked.
func underSeccomp(_ arguments: [String]) throws {
    guard arguments.count == 1 else { fail("usage: seccomp-openat2 <root>") }
    guard CStorageTestSupport_deny_syscall(CStorageTestSupport_openat2_number(), EPERM) == 0 else {
        fail("seccomp: \(errno)")
    }
    // The filter is in force: a raw openat2 now says EPERM.
    let storage = try LocalStorage(storagePath: arguments[0], durability: .fullSync)
    try storage.uploadFile(file: "through the walk", fileName: "f", context: "a/b")
    guard try storage.downloadFile("f", context: "a/b") == Data("through the walk".utf8),
        try storage.checkIfExists("f", context: "a/b"),
        try storage.listStoredFiles("a/b") == ["f"]
    else { fail("wrong content or listing under seccomp") }
    try storage.deleteFile("f", context: "a/b")
    guard try !storage.checkIfExists("f", context: "a/b") else { fail("delete did not take") }
    print("ok")
}

/// `sweep-cost <root>`: prints how long opening the storage takes (the caller's part of the
/// sweep) and how long a full explicit sweep takes, in milliseconds.
func sweepCost(_ arguments: [String]) throws {
    guard arguments.count == 1 else { fail("usage: sweep-cost <root>") }
    func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
    }
    var storage: LocalStorage?
    let open = try milliseconds { storage = try LocalStorage(storagePath: arguments[0], durability: .noSync) }
    var removed = 0
    let full = try milliseconds { removed = try storage?.removeOrphanedTempFiles() ?? 0 }
    print(String(format: "open=%.2fms fullSweep=%.1fms removed=%d", open, full, removed))
}
