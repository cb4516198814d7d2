// Process-wide limits the tests cannot set in their own process: RLIMIT_FSIZE, a full tmpfs,
// the umask.
import Foundation
import Glibc
import LocalStorage

/// Runs `body`, which must throw a LocalStorageError with `code`; exits otherwise.
func expectFailure(_ code: LocalStorageError.Code, _ what: String, _ body: () throws -> Void) {
    do {
        try body()
        fail("\(what): succeeded, expected \(code)")
    } catch let error as LocalStorageError {
        if error.code != code { fail("\(what): got \(error), expected \(code)") }
        print("\(what): \(error.code) from \(error.syscall ?? "-")")
    } catch {
        fail("\(what): unexpected \(error)")
    }
}

/// Checks the old version is intact and no temp file is left in `context`.
func checkIntact(_ storage: LocalStorage, _ old: Data, context: String) throws {
    guard try storage.downloadFile("f", context: context) == old else { fail("old version damaged") }
    let entries = try FileManager.default.contentsOfDirectory(atPath: storage.getRootPath() + "/" + context)
    if entries.contains(where: { $0.hasPrefix(".ls-tmp-") }) { fail("temp file left: \(entries)") }
}

/// Every large upload path, each expected to fail with `code`; the source file is `source`.
func failEveryPath(_ storage: LocalStorage, code: LocalStorageError.Code, source: String, big: Data) throws {
    let old = Data("old version".utf8)
    try storage.uploadFile(file: old, fileName: "f", context: "c")
    expectFailure(code, "memory") { try storage.uploadFile(file: big, fileName: "f", context: "c") }
    try checkIntact(storage, old, context: "c")
    for direct in [true, false] {
        guard let handle = FileHandle(forReadingAtPath: source) else { fail("cannot open \(source)") }
        expectFailure(code, "handle direct=\(direct)") {
            try storage.uploadFile(file: handle, fileName: "f", context: "c", directStream: direct)
        }
        try handle.close()
        try checkIntact(storage, old, context: "c")
    }
    expectFailure(code, "writer") {
        try storage.withFileWriter(fileName: "f", context: "c") { writer in
            for _ in 0..<8 { try writer.write(big.prefix(big.count / 4)) }
        }
    }
    try checkIntact(storage, old, context: "c")
    // And the storage still works.
    try storage.uploadFile(file: "small", fileName: "after", context: "c")
    guard try storage.downloadFile("after", context: "c") == Data("small".utf8) else { fail("next operation failed") }
}

func fileSizeLimit(_ arguments: [String]) throws {
    guard arguments.count == 2 else { fail("usage: fsize <root> <source>") }
    // The library leaves SIGXFSZ alone; a program that wants EFBIG instead of death ignores it.
    signal(SIGXFSZ, SIG_IGN)
    let storage = try LocalStorage(storagePath: arguments[0], durability: .fileSync)
    let big = Data(repeating: 0x5A, count: 3 << 20)
    guard FileManager.default.createFile(atPath: arguments[1], contents: big) else { fail("cannot make source") }
    var limit = rlimit(rlim_cur: 1 << 20, rlim_max: 1 << 20)
    guard setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0 else { fail("setrlimit failed") }
    try failEveryPath(storage, code: .fileTooLarge, source: arguments[1], big: big)
    print("ok")
}

func fullDisk(_ arguments: [String]) throws {
    guard arguments.count == 2 else { fail("usage: enospc <root-on-small-tmpfs> <source-elsewhere>") }
    let storage = try LocalStorage(storagePath: arguments[0], durability: .fullSync)
    let big = Data(repeating: 0xA5, count: 6 << 20)
    guard FileManager.default.createFile(atPath: arguments[1], contents: big) else { fail("cannot make source") }
    func freeBytes() -> Int {
        var info = statvfs()
        return statvfs(arguments[0], &info) == 0 ? Int(info.f_bavail) * Int(info.f_frsize) : -1
    }
    try storage.uploadFile(file: "warm", fileName: "warm", context: "c")
    let before = freeBytes()
    try failEveryPath(storage, code: .noSpace, source: arguments[1], big: big)
    try storage.deleteFile("after", context: "c")
    let after = freeBytes()
    // Every byte the failed uploads took is given back; the only new data since `before` is the
    // 11-byte old version "f", one page.
    if after < before - 4096 { fail("space not given back: \(before) free before, \(after) after") }
    print("ok free-before=\(before) free-after=\(after)")
}

func modes(_ arguments: [String]) throws {
    guard arguments.count == 2, let mask = mode_t(arguments[1], radix: 8) else { fail("usage: modes <root> <umask>") }
    umask(mask)
    let storage = try LocalStorage(storagePath: arguments[0], durability: .noSync)
    try storage.uploadFile(file: "content", fileName: "f", context: "")
    var status = stat()
    guard stat(arguments[0] + "/f", &status) == 0 else { fail("stat failed") }
    let stored = status.st_mode & 0o7777
    var tempMode: mode_t = 0
    try storage.withFileWriter(fileName: "w", context: "") { writer in
        try writer.write([UInt8](repeating: 1, count: 300_000))  // past the buffer: on disk now
        let entries = try FileManager.default.contentsOfDirectory(atPath: arguments[0])
        guard let temp = entries.first(where: { $0.hasPrefix(".ls-tmp-") }) else { fail("no temp file while writing") }
        var tempStatus = stat()
        guard stat(arguments[0] + "/" + temp, &tempStatus) == 0 else { fail("stat temp failed") }
        tempMode = tempStatus.st_mode & 0o7777
    }
    print("stored=\(String(stored, radix: 8)) temp=\(String(tempMode, radix: 8))")
}
