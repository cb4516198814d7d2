import Foundation
import Glibc
import Synchronization
import Testing

@testable import LocalStorage

/// A 1 GiB upload from a FileHandle, compared byte for byte without holding it in memory.
@Suite(.serialized) struct LargeFileTests {
    static let gibibyte = 1 << 30
    static let chunk = 8 << 20

    /// Writes `size` bytes: one pseudo-random chunk, stamped with its index so no two chunks
    /// are alike (a misplaced chunk would show).
    static func makeSource(at path: String, size: Int) throws {
        let handle = try #require(
            FileHandle(forWritingAtPath: path)
                ?? {
                    write(Data(), to: path)
                    return FileHandle(forWritingAtPath: path)
                }())
        defer { try? handle.close() }
        var pattern = patternBytes(count: chunk, seed: 42)
        var written = 0
        var index: UInt64 = 1
        while written < size {
            let n = min(chunk, size - written)
            withUnsafeBytes(of: index) { stamp in
                for k in 0..<8 { pattern[k] = stamp[k] }
            }
            try handle.write(contentsOf: pattern[0..<n])
            written += n
            index += 1
        }
    }

    /// Compares two files chunk by chunk.
    static func sameContent(_ a: String, _ b: String) throws -> Bool {
        let left = try #require(FileHandle(forReadingAtPath: a))
        let right = try #require(FileHandle(forReadingAtPath: b))
        defer { try? left.close(); try? right.close() }
        while true {
            let x = try left.read(upToCount: chunk) ?? Data()
            let y = try right.read(upToCount: chunk) ?? Data()
            if x != y { return false }
            if x.isEmpty { return true }
        }
    }

    @Test(arguments: [true, false])
    func oneGibibyteFromAFileHandle(directStream: Bool) throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.fileSync)
        let source = scratch.at("big.src")
        try Self.makeSource(at: source, size: Self.gibibyte)
        try storage.uploadFile(file: "old", fileName: "big", context: "models")
        let handle = try #require(FileHandle(forReadingAtPath: source))
        try storage.uploadFile(file: handle, fileName: "big", context: "models", directStream: directStream)
        try handle.close()
        var status = stat()
        #expect(stat(scratch.at("root/models/big"), &status) == 0)
        #expect(Int(status.st_size) == Self.gibibyte)
        #expect(try Self.sameContent(source, scratch.at("root/models/big")))
        #expect(tempFiles(in: scratch.at("root/models")).isEmpty)
    }

    #if ENABLE_MOCKING
    /// The 1 GiB payload moves kernel-side: not one of its bytes passes through read or write.
    @Test func oneGibibyteMovesWithoutUserSpaceCopies() throws {
        let scratch = Scratch()
        let storage = try scratch.storage(.noSync)
        let source = scratch.at("big.src")
        try Self.makeSource(at: source, size: Self.gibibyte)

        let ingest = FaultInjector()
        let handle = try #require(FileHandle(forReadingAtPath: source))
        let outcome = try ingest.run {
            try storage.uploadStream(fromDescriptor: handle.fileDescriptor, fileName: "big", context: "m", direct: true)
        }
        try handle.close()
        #expect(outcome.bytes == Self.gibibyte)
        // Where files share extents (XFS), a reflink: not one byte moves at all.
        #expect(outcome.path == directIngestPath)
        #expect(ingest.bytesMoved(by: .copyFileRange) == (directIngestPath == .copyFileRange ? Self.gibibyte : 0))
        #expect(ingest.bytesMoved(by: .read) == 0)
        #expect(ingest.bytesMoved(by: .write) == 0)

        write(Data(), to: scratch.at("big.out"))
        let out = try #require(FileHandle(forWritingAtPath: scratch.at("big.out")))
        let export = FaultInjector()
        _ = try export.run { try storage.exportStream("big", context: "m", toDescriptor: out.fileDescriptor) }
        try out.close()
        #expect(export.bytesMoved(by: .copyFileRange) == Self.gibibyte)
        #expect(export.bytesMoved(by: .read) == 0 && export.bytesMoved(by: .write) == 0)
        #expect(try Self.sameContent(source, scratch.at("big.out")))

        let pipe = Pipe()
        let counted = Atomic<Int>(0)
        let reader = pipe.fileHandleForReading
        let finished = DispatchSemaphore(value: 0)
        Thread {
            while let chunk = try? reader.read(upToCount: 1 << 20), !chunk.isEmpty {
                counted.add(chunk.count, ordering: .relaxed)
            }
            finished.signal()
        }.start()
        let toPipe = FaultInjector()
        _ = try toPipe.run { try storage.exportStream("big", context: "m", toDescriptor: pipe.fileHandleForWriting.fileDescriptor) }
        try pipe.fileHandleForWriting.close()
        finished.wait()
        #expect(counted.load(ordering: .relaxed) == Self.gibibyte)
        #expect(toPipe.bytesMoved(by: .splice) == Self.gibibyte)
        #expect(toPipe.bytesMoved(by: .read) == 0 && toPipe.bytesMoved(by: .write) == 0)
    }
    #endif

    /// Peak RSS of a child process grows by less than 64 MiB while it moves 1 GiB.
    @Test func peakMemoryStaysFlatForOneGibibyte() throws {
        let helper = try #require(helperExecutable(), "StorageTestHelper was not built next to the tests")
        let scratch = Scratch()
        let source = scratch.at("big.src")
        try Self.makeSource(at: source, size: Self.gibibyte)
        let root = scratch.at("root")
        let limitKiB = 64 * 1024
        func growthKiB(_ operation: String) throws -> Int {
            let path = operation == "export" ? scratch.at("big.out") : source
            let output = try runHelper(helper, ["rss", operation, root, path, "\(Self.gibibyte)"])
            var fields: [String: Int] = [:]
            for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let parts = field.split(separator: "=")
                if parts.count == 2, let value = Int(parts[1]) { fields[String(parts[0])] = value }
            }
            let before = try #require(fields["before"], "helper said: \(output)")
            let after = try #require(fields["after"], "helper said: \(output)")
            return after - before
        }
        for operation in ["ingest-direct", "ingest-buffered", "export", "stream", "writer"] {
            let growth = try growthKiB(operation)
            print("peak RSS growth moving 1 GiB, \(operation): \(growth) KiB")
            #expect(growth < limitKiB, "\(operation): peak RSS grew by \(growth) KiB")
        }
        // The control: holding the whole file in memory must show, or the probe proves nothing.
        // (Seen once to come in under 900 MiB on a machine under heavy contention, never since:
        // half of the file, 8x the limit above, is proof enough that the probe sees it.)
        let control = try growthKiB("download")
        print("peak RSS growth, control (whole-file download): \(control) KiB")
        #expect(control > 512 * 1024, "the probe missed a 1 GiB buffer: \(control) KiB")
        #expect(try Self.sameContent(source, scratch.at("big.out")))
        #expect(try Self.sameContent(source, scratch.at("root/m/big")))
    }
}

/// The test-support executable, built by SwiftPM next to the test binary.
func helperExecutable() -> String? {
    guard let testBinary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
    var directory = (testBinary as NSString).deletingLastPathComponent
    // On some layouts the test binary sits inside a .xctest bundle directory.
    if directory.hasSuffix(".xctest") { directory = (directory as NSString).deletingLastPathComponent }
    let candidate = directory + "/StorageTestHelper"
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}

/// Runs the helper and returns its standard output; fails the test on a non-zero exit.
func runHelper(_ helper: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: helper)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: outData, as: UTF8.self)
    #expect(
        process.terminationStatus == 0, "helper \(arguments) failed: \(String(decoding: errData, as: UTF8.self))",
        sourceLocation: sourceLocation)
    return text
}
