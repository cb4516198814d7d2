// The seed document's examples in Swift. Exits non-zero if anything behaves otherwise.
import Foundation
import LocalStorage

/// Custom file naming: the seed's `_get_file_name` override.
final class CustomLocalStorage: LocalStorage, @unchecked Sendable {
    override func fileName(for name: String) -> String { "custom_prefix_\(name)" }
}

func check(_ condition: Bool, _ what: String) {
    print((condition ? "ok   " : "FAIL ") + what)
    if !condition { exit(1) }
}

let root = FileManager.default.temporaryDirectory.path + "/seed-usage-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: root) }

do {
    // Basic usage
    let storage: any BaseStorage = try LocalStorage(storagePath: root)
    check(storage.getRootPath() == root, "getRootPath() is the absolute root")

    // Uploading, downloading, checking, listing, deleting
    let stored = try storage.uploadFile(file: "Hello, World!", fileName: "greeting.txt", context: "messages", directStream: false)
    check(stored == "greeting.txt", "uploadFile returns the stored name")
    let downloaded = try storage.downloadFile("greeting.txt", context: "messages")
    print(String(decoding: downloaded, as: UTF8.self))
    check(downloaded == Data("Hello, World!".utf8), "downloadFile returns the content")
    check(try storage.checkIfExists("greeting.txt", context: "messages"), "checkIfExists is true")
    check(try storage.listStoredFiles("messages") == ["greeting.txt"], "listStoredFiles lists it")
    let handle = try storage.getFileByHashcode("greeting.txt", context: "messages")
    check(try handle.readToEnd() == Data("Hello, World!".utf8), "getFileByHashcode reads it")
    try handle.close()
    try storage.deleteFile("greeting.txt", context: "messages")
    check(try !storage.checkIfExists("greeting.txt", context: "messages"), "deleteFile removes it")

    // Direct file streaming
    let concrete = try LocalStorage(storagePath: root, durability: .fileSync)
    let source = root + "-large_file.dat"
    defer { try? FileManager.default.removeItem(atPath: source) }
    let payload = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) })
    check(FileManager.default.createFile(atPath: source, contents: payload), "made a 4 MiB source file")
    if let file = FileHandle(forReadingAtPath: source) {
        try concrete.uploadFile(file: file, fileName: "large_file.dat", context: "data", directStream: true)
        try file.close()
    }
    check(try concrete.downloadFile("large_file.dat", context: "data") == payload, "direct stream stored every byte")
    try concrete.uploadFile(file: payload, fileName: "from-data", context: "data")
    try concrete.uploadFile(file: [UInt8](payload.prefix(10)), fileName: "from-bytes", context: "data")
    check(try concrete.listStoredFiles("data") == ["from-bytes", "from-data", "large_file.dat"], "all three upload kinds")

    // Custom file naming
    let custom = try CustomLocalStorage(storagePath: root, durability: .noSync)
    check(try custom.uploadFile(file: "x", fileName: "a.txt", context: "c") == "custom_prefix_a.txt", "custom naming")

    // Error handling: typed errors
    do {
        _ = try storage.downloadFile("missing", context: "messages")
        check(false, "missing file throws")
    } catch let error as LocalStorageError where error.code == .notFound {
        check(true, "missing file throws .notFound (\(error))")
    }
    do {
        try storage.uploadFile(file: "x", fileName: "../escape", context: "", directStream: false)
        check(false, "traversal throws")
    } catch let error as LocalStorageError where error.code == .invalidName {
        check(true, "traversal throws .invalidName")
    }
    print("seed usage: all checks passed")
} catch {
    print("FAIL unexpected error: \(error)")
    exit(1)
}
