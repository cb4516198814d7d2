import Foundation
import Glibc
import Testing

@testable import LocalStorage

/// On a loop-mounted XFS with reflink=1, a direct ingest of a regular file takes the reflink
/// path for real (not forced by the fault injector): the stored file shares the source's
/// extents and takes no space of its own. And how its cost compares with a copy, printed.
@Suite(.serialized, .enabled(if: LoopMountEnvironment.shouldRun, LoopMountEnvironment.skipReason))
struct XFSReflinkTests {
    static func mountXFS(_ label: String, size: Int) throws -> ScratchXFS {
        do {
            return try ScratchXFS(label: label, size: size)
        } catch {
            try LoopMountEnvironment.unavailable("cannot mount XFS on a loop device: \(error)")
        }
    }

    /// Free bytes of the file system holding `path`.
    static func freeBytes(_ path: String) -> Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return -1 }
        return Int(info.f_bfree) * Int(info.f_frsize)
    }

    @Test func directIngestOfARegularFileIsAReflink() throws {
        let xfs = try Self.mountXFS("reflink", size: 1 << 30)
        defer { xfs.tearDown() }
        let storage = try LocalStorage(storagePath: xfs.at("root"), durability: .fullSync)
        let size = 64 << 20
        try LargeFileTests.makeSource(at: xfs.at("src"), size: size)
        sync()

        let before = Self.freeBytes(xfs.mountPoint)
        let handle = try #require(FileHandle(forReadingAtPath: xfs.at("src")))
        let outcome = try storage.uploadStream(fromDescriptor: handle.fileDescriptor, fileName: "shared", context: "m", direct: true)
        try handle.close()
        sync()
        let usedByReflink = before - Self.freeBytes(xfs.mountPoint)
        #expect(outcome.path == .reflink)
        #expect(outcome.bytes == size)
        #expect(try LargeFileTests.sameContent(xfs.at("src"), xfs.at("root/m/shared")))
        // Shared extents: the stored copy costs metadata only, not its 64 MiB.
        #expect(usedByReflink < 1 << 20, "a reflinked 64 MiB file took \(usedByReflink) bytes")

        // The control: a buffered ingest of the same file really copies, and takes the space.
        let copyBefore = Self.freeBytes(xfs.mountPoint)
        let again = try #require(FileHandle(forReadingAtPath: xfs.at("src")))
        let copied = try storage.uploadStream(fromDescriptor: again.fileDescriptor, fileName: "copied", context: "m", direct: false)
        try again.close()
        sync()
        let usedByCopy = copyBefore - Self.freeBytes(xfs.mountPoint)
        #expect(copied.path == .buffered)
        #expect(usedByCopy >= size, "a copied 64 MiB file took only \(usedByCopy) bytes")
        #expect(try LargeFileTests.sameContent(xfs.at("src"), xfs.at("root/m/copied")))
        print("XFS reflink: a 64 MiB direct ingest took \(usedByReflink) bytes of space, a buffered copy \(usedByCopy)")
    }

    #if ENABLE_MOCKING
    /// The ingest cost of a reflink against copies of the same file, at 64 MiB and 1 GiB, with
    /// `.fullSync` (so each copy's data reaches the disk, as it must). Printed, not asserted:
    /// timings belong to the benchmark; what is asserted is the path each one took.
    @Test func ingestTimeReflinkVersusCopyAt64MiBAnd1GiB() throws {
        let xfs = try Self.mountXFS("ratio", size: 6 << 30)
        defer { xfs.tearDown() }
        for size in [64 << 20, 1 << 30] {
            let source = xfs.at("src-\(size)")
            try LargeFileTests.makeSource(at: source, size: size)
            sync()
            // copy_file_range on XFS remaps the extents itself, so it is timed too, with FICLONE
            // refused; the buffered loop is the real byte copy.
            let ways: [(label: String, direct: Bool, refused: [Syscall], path: TransferPath)] = [
                ("reflink (FICLONE)", true, [], .reflink),
                ("copy_file_range", true, [.ficlone], .copyFileRange),
                ("read/write copy", false, [], .buffered),
            ]
            var medians: [String: Double] = [:]
            for way in ways {
                // A storage of its own: a refused FICLONE is remembered per storage.
                let storage = try LocalStorage(storagePath: xfs.at("root"), durability: .fullSync)
                var seconds: [Double] = []
                for round in 0..<3 {
                    let handle = try #require(FileHandle(forReadingAtPath: source))
                    let injector = FaultInjector(way.refused.map { .init(syscall: $0, call: 1, repeats: true, fault: .fail(EOPNOTSUPP)) })
                    let start = monotonicNow()
                    let outcome = try injector.run {
                        try storage.uploadStream(
                            fromDescriptor: handle.fileDescriptor, fileName: "f-\(round)", context: "m", direct: way.direct)
                    }
                    seconds.append(Double(monotonicNow() - start) / 1e9)
                    try handle.close()
                    #expect(outcome.path == way.path, "\(way.label)")
                    #expect(outcome.bytes == size)
                }
                #expect(try LargeFileTests.sameContent(source, xfs.at("root/m/f-2")))
                for round in 0..<3 { try storage.deleteFile("f-\(round)", context: "m") }
                medians[way.label] = seconds.sorted()[1]
                print(
                    String(
                        format: "XFS ingest %@ %@: median %.4f s (%@)", size == 1 << 30 ? "1 GiB" : "64 MiB", way.label,
                        seconds.sorted()[1], seconds.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
            }
            if let reflink = medians["reflink (FICLONE)"], let copy = medians["read/write copy"], let range = medians["copy_file_range"] {
                print(
                    String(
                        format: "XFS ingest %@: a copy takes %.0fx the time of a reflink (copy_file_range %.1fx)",
                        size == 1 << 30 ? "1 GiB" : "64 MiB", copy / reflink, range / reflink))
            }
            try FileManager.default.removeItem(atPath: source)
        }
    }
    #endif
}
