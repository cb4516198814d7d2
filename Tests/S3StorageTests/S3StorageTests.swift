#if S3
import Foundation
import LocalStorage
import Testing
@testable import S3Storage

/// What only a remote backend can get wrong, against a live S3 server.
@Suite("S3Storage", .enabled(if: S3TestEnvironment.available, "\(S3TestEnvironment.unavailableReason)"))
struct S3StorageTests {
    @Test func wrongSecretIsPermissionDenied() async throws {
        let storage = try S3TestEnvironment.storage(secret: "not-the-secret")
        do {
            try await storage.uploadFile(file: "x", fileName: "f", context: "")
            Issue.record("an upload with a wrong secret succeeded")
        } catch let error as LocalStorageError {
            #expect(error.code == .permissionDenied, "\(error)")
            #expect(error.httpStatus == 403)
            #expect(error.remoteErrorCode == "SignatureDoesNotMatch")
            #expect(error.requestID?.isEmpty == false)
            #expect(error.description.contains("HTTP 403"))
        }
        // Reads too, and through the synchronous API.
        #expect(throws: LocalStorageError.self) { _ = try storage.listStoredFiles("") }
    }

    @Test func rootPathAndPrefix() throws {
        let storage = try S3TestEnvironment.storage(prefix: "/team/a/")
        #expect(storage.getRootPath() == "s3://\(S3TestEnvironment.bucket)/team/a")
        #expect(throws: LocalStorageError.self) { _ = try S3TestEnvironment.storage(prefix: "a//b") }
    }

    @Test func asyncAPI() async throws {
        let storage = try S3TestEnvironment.storage()
        let content = patterned(S3TestEnvironment.smallParts.multipartThreshold + 77, seed: 1)
        try await storage.uploadFile(file: content, fileName: "a", context: "async")
        #expect(try await storage.downloadFile("a", context: "async") == content)
        #expect(try await storage.listStoredFiles("async") == ["a"])
        #expect(try await storage.fileInfo("a", context: "async").size == Int64(content.count))
        let (handle, path) = try temporaryFile(Data())
        defer { try? handle.close(); unlink(path) }
        #expect(try await storage.downloadFile("a", context: "async", to: handle) == content.count)
        #expect(FileManager.default.contents(atPath: path) == content)
        try await storage.deleteFile("a", context: "async")
        #expect(try await !storage.checkIfExists("a", context: "async"))
    }

    /// A multipart upload that fails after some parts were stored (its task is cancelled while it
    /// waits for more input) aborts: no upload is left, no object exists.
    @Test func failedMultipartLeavesNoParts() async throws {
        let storage = try S3TestEnvironment.storage()
        let pipe = Pipe()
        let upload = Task {
            try await storage.uploadFile(file: pipe.fileHandleForReading, fileName: "cancelled", context: "mp")
        }
        // Two parts' worth, then wait until the server shows the upload in progress.
        try await feed(pipe, patterned(10 << 20 + 1))
        try await waitUntil { try await storage.pendingMultipartUploads().isEmpty == false }
        upload.cancel()
        // No more input: writing more could block this test on a reader that stopped reading.
        try pipe.fileHandleForWriting.close()
        let outcome = await upload.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(try await storage.pendingMultipartUploads() == [])
        #expect(try await !storage.checkIfExists("cancelled", context: "mp"))
    }

    /// A gateway killed (SIGKILL) mid-upload: a typed error, and no object, whole or half. (The
    /// stored parts stay: the abort cannot reach a dead server. This test removes them.)
    @Test(
        .enabled(if: S3TestEnvironment.canStartGateways, "needs S3_TEST_CEPH_DIR to start a gateway it may kill"),
        .enabled(if: S3TestEnvironment.hasBoto3, "removes the parts a killed gateway leaves with boto3, which python3 cannot import"))
    func serverKilledMidUpload() async throws {
        let directory = try #require(try S3TestEnvironment.requireServer().cephDirectory)
        let name = "kill\(getpid() % 10_000)\(Int.random(in: 0..<1000))"
        let port = S3TestEnvironment.freePort()
        let start = Process()
        start.executableURL = URL(fileURLWithPath: "/bin/bash")
        start.arguments = [S3TestEnvironment.packageRoot.appendingPathComponent("scripts/ceph-s3-gateway.sh").path, name, String(port)]
        start.environment = ProcessInfo.processInfo.environment.merging(["D": directory]) { $1 }
        try start.run()
        start.waitUntilExit()
        try #require(start.terminationStatus == 0)
        let pidText = try String(contentsOfFile: "\(directory)/run/client.rgw.\(name).pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Never kill(0, ...) or a negative pid: that would signal a whole process group.
        let pid = try #require(pid_t(pidText).flatMap { $0 > 0 ? $0 : nil }, "gateway pid file: '\(pidText)'")
        let prefix = "kill-\(UUID().uuidString.prefix(8))"
        var options = S3TestEnvironment.smallParts
        options.maxAttempts = 2
        let doomed = try S3TestEnvironment.storage(
            prefix: prefix, transfer: options, endpoint: URL(string: "http://127.0.0.1:\(port)"))
        let observer = try S3TestEnvironment.storage(prefix: prefix)

        let pipe = Pipe()
        let upload = Task { try await doomed.uploadFile(file: pipe.fileHandleForReading, fileName: "big", context: "k") }
        try await feed(pipe, patterned(10 << 20 + 1))
        try await waitUntil { try await observer.pendingMultipartUploads().isEmpty == false }
        #expect(kill(pid, SIGKILL) == 0)
        try pipe.fileHandleForWriting.close()
        do {
            _ = try await upload.value
            Issue.record("the upload succeeded through a killed gateway")
        } catch let error as LocalStorageError {
            #expect(error.code == .remote, "\(error)")
            #expect(error.httpStatus == nil)
        }
        #expect(try await !observer.checkIfExists("big", context: "k"))
        #expect(try await observer.listStoredFiles("k") == [])
        _ = try S3TestEnvironment.python(
            "boto3_client.py", ["abort-all", S3TestEnvironment.bucket, prefix + "/"], environment: S3TestEnvironment.pythonEnvironment)
        #expect(try await observer.pendingMultipartUploads() == [])
    }

    /// Eight tasks upload different content to one key at once, some in one PUT, some in parts:
    /// the object is then exactly one of them.
    @Test func concurrentUploadsOfOneKey() async throws {
        let storage = try S3TestEnvironment.storage()
        let contents = (0..<8).map { index in
            patterned(index % 2 == 0 ? (1 << 20) + index : (11 << 20) + index, seed: UInt8(index))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for content in contents {
                group.addTask { try await storage.uploadFile(file: content, fileName: "contended", context: "race") }
            }
            try await group.waitForAll()
        }
        let final = try await storage.downloadFile("contended", context: "race")
        #expect(contents.contains(final), "the object is none of the uploads (\(final.count) bytes)")
        #expect(try await storage.pendingMultipartUploads() == [])
        try await storage.deleteFile("contended", context: "race")
    }

    /// What this library writes boto3 reads, and the other way round (one PUT and multipart).
    @Test(.enabled(if: S3TestEnvironment.hasBoto3, "python3 cannot import boto3"))
    func interoperatesWithBoto3() async throws {
        let prefix = "interop-\(UUID().uuidString.prefix(8))"
        let storage = try S3TestEnvironment.storage(prefix: prefix)
        let bucket = S3TestEnvironment.bucket
        let environment = S3TestEnvironment.pythonEnvironment
        for (name, size) in [("small ü+%.bin", 3000), ("multi part.bin", 12 << 20)] {
            let ours = patterned(size, seed: 42)
            try await storage.uploadFile(file: ours, fileName: name, context: "from swift")
            let read = try S3TestEnvironment.python(
                "boto3_client.py", ["get", bucket, "\(prefix)/from swift/\(name)"], environment: environment)
            #expect(read == ours, "boto3 read \(name)")

            let theirs = patterned(size, seed: 43)
            _ = try S3TestEnvironment.python(
                "boto3_client.py", ["put", bucket, "\(prefix)/from boto3/\(name)"] + (size > 5 << 20 ? ["--multipart"] : []),
                input: theirs, environment: environment)
            #expect(try await storage.downloadFile(name, context: "from boto3") == theirs, "we read \(name)")
            let (handle, path) = try temporaryFile(Data())
            defer { try? handle.close(); unlink(path) }
            #expect(try await storage.downloadFile(name, context: "from boto3", to: handle) == size)
            #expect(FileManager.default.contents(atPath: path) == theirs)
        }
        #expect(try await storage.listStoredFiles("from boto3") == ["multi part.bin", "small ü+%.bin"])
    }
}

/// Writes `data` into a pipe from a thread of its own: a blocking write on a test's own thread
/// would hold a concurrency-pool thread until the reader (maybe a task waiting for that thread)
/// has read it all.
func feed(_ pipe: Pipe, _ data: Data) async throws {
    let failure: String? = await withCheckedContinuation { continuation in
        Thread {
            do {
                try pipe.fileHandleForWriting.write(contentsOf: data)
                continuation.resume(returning: nil)
            } catch {
                continuation.resume(returning: "\(error)")
            }
        }.start()
    }
    if let failure { throw PythonFailure(message: "writing to the pipe failed: \(failure)") }
}

/// Polls `condition` every 10 ms for up to 30 s.
func waitUntil(_ condition: () async throws -> Bool) async throws {
    for _ in 0..<3000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within 30 s")
}

extension S3TestEnvironment {
    /// The variables boto3_client.py reads.
    static var pythonEnvironment: [String: String] {
        guard let server else { return [:] }
        return [
            "S3_TEST_ENDPOINT": server.endpoint.absoluteString, "S3_TEST_ACCESS_KEY_ID": server.accessKeyID,
            "S3_TEST_SECRET_ACCESS_KEY": server.secretAccessKey,
        ]
    }
}
#endif

#if S3
/// Locks through conditional writes, against the live server.
@Suite("S3Storage locks", .enabled(if: S3TestEnvironment.available, "\(S3TestEnvironment.unavailableReason)"))
struct S3LockTests {
    /// Four tasks, each through its own storage (as four machines would), increment a counter
    /// file five times under the lock: no increment is lost.
    @Test func mutualExclusion() async throws {
        let prefix = "lock-\(UUID().uuidString.prefix(8))"
        let storages = try (0..<4).map { _ in try S3TestEnvironment.storage(prefix: prefix) }
        try await storages[0].uploadFile(file: "0", fileName: "counter", context: "c")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for storage in storages {
                group.addTask {
                    for _ in 0..<5 {
                        // The timeout only bounds a hang: a body whose task waits for a starved
                        // concurrency pool keeps the lock (its renewals run on threads of their own).
                        try await storage.withLock("counter", context: "c", lease: .seconds(10), timeout: .seconds(600)) {
                            let value =
                                Int(String(decoding: try await storage.downloadFile("counter", context: "c"), as: UTF8.self)) ?? -1000
                            try await storage.uploadFile(file: String(value + 1), fileName: "counter", context: "c")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(String(decoding: try await storages[0].downloadFile("counter", context: "c"), as: UTF8.self) == "20")
        // Lock objects are not files.
        #expect(try await storages[0].listStoredFiles("c") == ["counter"])
    }

    /// A holder that died (acquired, never renewed nor released) blocks others until its lease
    /// runs out by the server's clock, then loses the lock to the next contender.
    @Test func expiredLeaseIsTakenOver() async throws {
        let storage = try S3TestEnvironment.storage()
        // A live lease: a bounded attempt times out. The lease is long enough (10 minutes) that no
        // scheduling delay on a loaded machine lets it run out before the attempt (a 3 s lease
        // did, in a full test run: the Last-Modified it is measured from has 1 s resolution).
        let live = try await storage.acquireLock("live", context: "", lease: .seconds(600), timeout: .seconds(60))
        do {
            try await storage.withLock("live", context: "", timeout: .milliseconds(300)) {}
            Issue.record("acquired a lock whose lease is live")
        } catch let error as LocalStorageError {
            #expect(error.code == .timedOut, "\(error)")
        }
        await live.release()
        // A short lease, never renewed: the next contender takes the lock over once it runs out.
        _ = try await storage.acquireLock("dead", context: "", lease: .seconds(1), timeout: .seconds(60))
        let taken = try await storage.withLock("dead", context: "", timeout: .seconds(60)) { "ran" }
        #expect(taken == "ran")
    }
}
#endif
