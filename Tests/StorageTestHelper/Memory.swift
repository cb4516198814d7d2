// Peak-RSS measurement of one large transfer in a fresh process.
import Foundation
import Glibc
import LocalStorage

func peakRSSKiB() -> Int {
    var usage = rusage()
    _ = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss
}

func measure(_ arguments: [String]) throws {
    guard arguments.count == 4, let size = Int(arguments[3]) else { fail("usage: rss <op> <root> <path> <size>") }
    let (operation, root, path) = (arguments[0], arguments[1], arguments[2])
    let storage = try LocalStorage(storagePath: root, durability: .noSync)
    // Warm up every code path once on a small file, so the measurement sees only the payload.
    try storage.uploadFile(file: [UInt8](repeating: 1, count: 4096), fileName: "warm", context: "w")
    _ = try storage.downloadFile("warm", context: "w")
    try storage.openReader("warm", context: "w").forEachChunk { _ in }
    let before = peakRSSKiB()
    switch operation {
    case "ingest-direct", "ingest-buffered":
        guard let handle = FileHandle(forReadingAtPath: path) else { fail("cannot open \(path)") }
        try storage.uploadFile(file: handle, fileName: "big", context: "m", directStream: operation == "ingest-direct")
    case "export":
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { fail("cannot create \(path)") }
        let written = try storage.downloadFile("big", context: "m", to: handle)
        if written != size { fail("exported \(written) bytes, expected \(size)") }
    case "stream":
        var total = 0
        try storage.openReader("big", context: "m", chunkSize: 4 << 20).forEachChunk { total += $0.count }
        if total != size { fail("streamed \(total) bytes, expected \(size)") }
    case "download":
        // The control: a whole-file download must show up as ~size of growth.
        let data = try storage.downloadFile("big", context: "m")
        if data.count != size { fail("downloaded \(data.count) bytes, expected \(size)") }
    case "writer":
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        try storage.withFileWriter(fileName: "written", context: "m") { writer in
            for _ in 0..<(size >> 20) { try writer.write(chunk) }
        }
    default:
        fail("unknown operation \(operation)")
    }
    print("before=\(before) after=\(peakRSSKiB())")
}
