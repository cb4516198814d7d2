#if Benchmark
import Foundation
import Glibc
import LocalStorage
#if S3
import S3Storage
#endif

/// `storage-bench --s3`: S3Storage against boto3 (what a Python user would reach for) on the same
/// S3 endpoint, alternating the two clients repetition by repetition. The endpoint, keys and
/// region come from the AWS_* variables both clients read (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY); the bucket `storage-bench` is created if missing. Needs python3 with
/// boto3, and the traits Benchmark and S3.
enum S3Bench {
    struct Row {
        let name: String
        let unit: String
        let swift: [Double]
        let boto3: [Double]

        static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    }

    static func run(repetitions: Int, directory: String) throws {
        #if S3
        let bucket = "storage-bench"
        let tag = "\(getpid())"
        let storage = try S3Storage(bucket: bucket, prefix: "bench-swift-\(tag)")
        try storage.createBucket()
        let python = try PythonContender(
            script: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("s3_bench_boto3.py").path)
        let scratch = "\(directory)/s3-bench-\(tag)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var rows: [Row] = []
        func note(_ text: String) { FileHandle.standardError.write(Data("storage-bench --s3: \(text)\n".utf8)) }

        // Small objects: 4 KiB puts and gets, 200 per repetition.
        let count = 200
        let small = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var putSmall: ([Double], [Double]) = ([], [])
        var getSmall: ([Double], [Double]) = ([], [])
        for repetition in 0..<repetitions {
            note("put/get 4 KiB, repetition \(repetition + 1)")
            try putSmall.0.append(
                Double(count)
                    / time {
                        for index in 0..<count {
                            try storage.uploadFile(file: small, fileName: String(format: "k%05d", index), context: "small")
                        }
                    })
            putSmall.1.append(Double(count) / (try python.run("put-small \(bucket) bench-boto3-\(tag)/small \(count) 4096")))
            try getSmall.0.append(
                Double(count)
                    / time {
                        for index in 0..<count { _ = try storage.downloadFile(String(format: "k%05d", index), context: "small") }
                    })
            getSmall.1.append(Double(count) / (try python.run("get-small \(bucket) bench-boto3-\(tag)/small \(count)")))
        }
        rows.append(Row(name: "put 4 KiB", unit: "ops/s", swift: putSmall.0, boto3: putSmall.1))
        rows.append(Row(name: "get 4 KiB", unit: "ops/s", swift: getSmall.0, boto3: getSmall.1))

        // 64 MiB from memory and back, to memory and to a file.
        let mib = 1024.0 * 1024.0
        let large = Data((0..<(64 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) })
        var put64: ([Double], [Double]) = ([], [])
        var get64: ([Double], [Double]) = ([], [])
        var get64File: ([Double], [Double]) = ([], [])
        for repetition in 0..<repetitions {
            note("put/get 64 MiB, repetition \(repetition + 1)")
            try put64.0.append(64 / time { try storage.uploadFile(file: large, fileName: "large", context: "") })
            put64.1.append(64 / (try python.run("put-memory \(bucket) bench-boto3-\(tag)/large \(64 << 20)")))
            try get64.0.append(64 / time { _ = try storage.downloadFile("large", context: "") })
            get64.1.append(64 / (try python.run("get-memory \(bucket) bench-boto3-\(tag)/large")))
            let target = "\(scratch)/download"
            try get64File.0.append(
                64
                    / time {
                        _ = FileManager.default.createFile(atPath: target, contents: nil)
                        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
                        defer { try? handle.close() }
                        _ = try storage.downloadFile("large", context: "", to: handle)
                    })
            get64File.1.append(64 / (try python.run("get-file \(bucket) bench-boto3-\(tag)/large \(target)")))
        }
        rows.append(
            Row(name: "put 64 MiB from memory", unit: "MB/s", swift: put64.0.map { $0 * mib / 1e6 }, boto3: put64.1.map { $0 * mib / 1e6 }))
        rows.append(
            Row(name: "get 64 MiB to memory", unit: "MB/s", swift: get64.0.map { $0 * mib / 1e6 }, boto3: get64.1.map { $0 * mib / 1e6 }))
        rows.append(
            Row(
                name: "get 64 MiB to a file", unit: "MB/s", swift: get64File.0.map { $0 * mib / 1e6 },
                boto3: get64File.1.map { $0 * mib / 1e6 }))
        try storage.deleteFile("large", context: "")
        _ = try python.run("delete \(bucket) bench-boto3-\(tag)/large")

        // 512 MiB multipart from a file (direct streaming), deleted after each run so the
        // memstore OSD never holds more than two copies.
        let bigPath = "\(scratch)/big"
        _ = FileManager.default.createFile(atPath: bigPath, contents: nil)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: bigPath))
        for _ in 0..<8 { try writer.write(contentsOf: large) }
        try writer.close()
        var multipart: ([Double], [Double]) = ([], [])
        for repetition in 0..<repetitions {
            note("multipart 512 MiB, repetition \(repetition + 1)")
            try multipart.0.append(
                512
                    / time {
                        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: bigPath))
                        defer { try? handle.close() }
                        try storage.uploadFile(file: handle, fileName: "big", context: "", directStream: true)
                    })
            try storage.deleteFile("big", context: "")
            multipart.1.append(512 / (try python.run("put-file \(bucket) bench-boto3-\(tag)/big \(bigPath)")))
            _ = try python.run("delete \(bucket) bench-boto3-\(tag)/big")
            // Let the gateway's garbage collector (every 2 s with the project's settings) free it.
            Thread.sleep(forTimeInterval: 3)
        }
        rows.append(
            Row(
                name: "multipart 512 MiB from a file", unit: "MB/s", swift: multipart.0.map { $0 * mib / 1e6 },
                boto3: multipart.1.map { $0 * mib / 1e6 }))

        // Listing 2,000 keys (two ListObjectsV2 pages).
        note("creating 2,000 keys per client for the listing")
        let extra = (count..<2000).map { String(format: "k%05d", $0) }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in stride(from: worker, to: extra.count, by: 8) {
                _ = try? storage.uploadFile(file: small, fileName: extra[index], context: "small")
            }
        }
        _ = try python.run("put-small \(bucket) bench-boto3-\(tag)/small 2000 4096")
        var list: ([Double], [Double]) = ([], [])
        for repetition in 0..<repetitions {
            note("list 2,000 keys, repetition \(repetition + 1)")
            var listed = 0
            try list.0.append(1 / time { listed = try storage.listStoredFiles("small").count })
            guard listed == 2000 else { throw BenchError("S3Storage listed \(listed) of 2,000 keys") }
            list.1.append(1 / (try python.run("list \(bucket) bench-boto3-\(tag)/small/")))
        }
        rows.append(Row(name: "list 2,000 keys", unit: "lists/s", swift: list.0, boto3: list.1))

        print(render(rows, repetitions: repetitions))
        #else
        throw BenchError("--s3 needs the S3 trait: swift run -c release --traits Benchmark,S3 storage-bench --s3")
        #endif
    }

    /// Seconds `body` takes on the monotonic clock.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func render(_ rows: [Row], repetitions: Int) -> String {
        var text = "S3: S3Storage vs boto3 on the same endpoint, medians of \(repetitions) alternating repetitions\n"
        text += "| workload | S3Storage | boto3 | ratio (S3Storage ÷ boto3) |\n|---|---|---|---|\n"
        for row in rows {
            let swift = Row.median(row.swift), boto3 = Row.median(row.boto3)
            text +=
                "| \(row.name) | \(String(format: "%.1f", swift)) \(row.unit) | \(String(format: "%.1f", boto3)) \(row.unit) | \(String(format: "%.2fx", swift / boto3)) |\n"
        }
        return text
    }
}

/// A python3 process running the boto3 contender, one command at a time.
final class PythonContender {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffered = Data()

    init(script: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Sends one command; returns the seconds the contender timed.
    func run(_ command: String) throws -> Double {
        try input.fileHandleForWriting.write(contentsOf: Data((command + "\n").utf8))
        while !buffered.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError("the boto3 contender exited") }
            buffered.append(chunk)
        }
        let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) ?? buffered.endIndex
        let line = String(decoding: buffered[buffered.startIndex..<newline], as: UTF8.self)
        buffered = Data(buffered[buffered.index(after: newline)...])
        guard let seconds = Double(line) else { throw BenchError("boto3: \(line)") }
        return seconds
    }
}
#endif
