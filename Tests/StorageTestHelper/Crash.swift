// The crash harness's writers: self-verifying versions through every upload path.
import Foundation
import Glibc
import LocalStorage
import StorageTestSupport

/// The upload paths, in the order the writers cycle through them.
enum UploadPath: CaseIterable {
    case memory, handleDirect, handleBuffered, writer, move
}

/// Mostly small versions, some big enough that the buffered loop takes several 1 MiB chunks.
func versionLength(_ generator: inout SeededGenerator) -> Int {
    Int.random(in: 0...8, using: &generator) == 0
        ? Int.random(in: 1_000_000...2_600_000, using: &generator)
        : Int.random(in: 0...65_536, using: &generator)
}

/// The harness itself could not prepare a source file (strace can fail its writes too).
struct SetupFailed: Error {
    var path: String
}

/// Uploads `version` as `name` through `path`; `scratch` is a file name in a work directory on
/// the same file system (for handle sources and moves).
func upload(_ version: [UInt8], as name: String, via path: UploadPath, storage: LocalStorage, scratch: String) throws {
    let context = SelfVerifying.context
    switch path {
    case .memory:
        try storage.uploadFile(file: Data(version), fileName: name, context: context)
    case .handleDirect, .handleBuffered:
        guard FileManager.default.createFile(atPath: scratch, contents: Data(version)),
            let handle = FileHandle(forReadingAtPath: scratch)
        else { throw SetupFailed(path: scratch) }
        defer {
            try? handle.close()
            unlink(scratch)
        }
        try storage.uploadFile(file: handle, fileName: name, context: context, directStream: path == .handleDirect)
    case .writer:
        try storage.withFileWriter(fileName: name, context: context) { writer in
            let third = version.count / 3
            try writer.write(Array(version[..<third]))
            try writer.write(Array(version[third..<(2 * third)]))
            try writer.write(Array(version[(2 * third)...]))
        }
    case .move:
        guard FileManager.default.createFile(atPath: scratch, contents: Data(version)) else { throw SetupFailed(path: scratch) }
        try storage.uploadFile(movingFileAt: scratch, fileName: name, context: context)
    }
}

/// What a process killed in the middle of an in-place rewrite leaves: the harness must see it.
func naiveUpload(_ version: [UInt8], as name: String, root: String) {
    let fd = open(root + "/" + SelfVerifying.context + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fail("naive open failed: \(errno)") }
    defer { close(fd) }
    var offset = 0
    while offset < version.count {
        let n = min(16 * 1024, version.count - offset)
        let written = version.withUnsafeBytes { bytes in
            bytes.baseAddress.map { write(fd, $0 + offset, n) } ?? -1
        }
        guard written > 0 else { fail("naive write failed: \(errno)") }
        offset += written
    }
}

func crashWriter(_ arguments: [String]) throws {
    guard arguments.count >= 3, let seed = UInt64(arguments[2]) else { fail("usage: crash-writer <root> <workdir> <seed> [naive]") }
    let (root, work) = (arguments[0], arguments[1])
    let naive = arguments.count > 3 && arguments[3] == "naive"
    // Cleanup is the parent's job (it reopens the storage after each kill); skip it here.
    let storage = try LocalStorage(storagePath: root, durability: .noSync, removeOrphanedTempFiles: false)
    var generator = SeededGenerator(seed: seed)
    var iteration = 0
    while true {
        let name = SelfVerifying.names[Int.random(in: 0..<SelfVerifying.names.count, using: &generator)]
        let version = SelfVerifying.make(seed: generator.next(), length: versionLength(&generator))
        if naive {
            try FileManager.default.createDirectory(atPath: root + "/" + SelfVerifying.context, withIntermediateDirectories: true)
            naiveUpload(version, as: name, root: root)
        } else {
            let path = UploadPath.allCases[iteration % UploadPath.allCases.count]
            try upload(version, as: name, via: path, storage: storage, scratch: "\(work)/src-\(getpid())-\(iteration)")
        }
        iteration += 1
    }
}

/// One upload per path, for strace's fault injection. A LocalStorageError is expected when
/// strace injects an error; after each failure every name must still hold a complete version.
func sequence(_ arguments: [String]) throws {
    guard arguments.count == 3, let seed = UInt64(arguments[2]) else { fail("usage: sequence <root> <workdir> <seed>") }
    let (root, work) = (arguments[0], arguments[1])
    let storage: LocalStorage
    do {
        storage = try LocalStorage(storagePath: root, durability: .fullSync, removeOrphanedTempFiles: false)
    } catch let error as LocalStorageError {
        print("failed init: \(error.code) \(error.syscall ?? "-") \(error.errno ?? 0)")
        print("done failures=1")
        return
    }
    var generator = SeededGenerator(seed: seed)
    var failures = 0
    for (index, path) in UploadPath.allCases.enumerated() {
        let version = SelfVerifying.make(seed: generator.next(), length: index == 2 ? 2_500_000 : 40_000)
        let name = SelfVerifying.names[index % SelfVerifying.names.count]
        do {
            try upload(version, as: name, via: path, storage: storage, scratch: "\(work)/seq-\(index)")
            guard try storage.downloadFile(name, context: SelfVerifying.context) == Data(version) else {
                fail("\(path): success reported but the stored bytes differ")
            }
        } catch is SetupFailed {
            failures += 1
            print("setup failed before \(path): not the engine's doing")
        } catch let error as LocalStorageError {
            failures += 1
            print("failed \(path): \(error.code) \(error.syscall ?? "-") \(error.errno ?? 0)")
            // Whatever failed, the name holds a complete (old or, after the rename, new) version.
            if let data = try? storage.downloadFile(name, context: SelfVerifying.context), !SelfVerifying.check(data) {
                fail("\(path): torn file after a failure")
            }
        }
    }
    print("done failures=\(failures)")
}
