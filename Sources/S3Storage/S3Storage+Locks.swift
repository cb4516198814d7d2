#if S3
import Foundation
import LocalStorage
import NIOCore

// Advisory locks shared through the bucket, for code that must not run twice at once across
// machines (filling one cache entry, say).
extension S3Storage {
    /// Runs `body` while holding the lock named `name` in `context`, shared by every process and
    /// machine that uses the same bucket and prefix.
    ///
    /// Built on conditional writes (`PUT` with `If-None-Match: *`, which creates an object only
    /// if none exists; Ceph 16.2's gateway honours it): the lock is a series of generation
    /// objects under a reserved name; whoever creates the next generation holds it. The holder
    /// renews its lease every third of `lease`; a generation whose lease ran out by the server's
    /// clock (its Last-Modified plus the lease, against the Date of a fresh answer) may be taken
    /// over by creating the next one, which only one contender can do.
    ///
    /// Weaker than the kernel locks of `LocalStorage`, which the kernel releases the instant a
    /// holder dies and never revokes from a live one: here a dead holder blocks others until its
    /// lease runs out, and a live holder that stalls for longer than its lease (a paused process,
    /// a partition) loses the lock while `body` runs on. Then `withLock` throws after `body`
    /// returns, but what `body` did is done. Keep `body` well within the lease, or make it
    /// idempotent.
    ///
    /// - Parameters:
    ///   - name: The lock's name, validated like a file name; it shares no namespace with files.
    ///   - context: The context it belongs to.
    ///   - lease: How long a holder that stops renewing keeps the lock. Default 30 s.
    ///   - timeout: How long to wait for the lock. Default 60 s.
    ///   - body: The work to do while holding it.
    /// - Returns: What `body` returns.
    /// - Throws: `.timedOut` if the lock was not acquired within `timeout`; `.remote` with
    ///   `remoteErrorCode` "LockLost" if the lease was lost while `body` ran; what `body` throws.
    public func withLock<R: Sendable>(
        _ name: String, context: String, lease: Duration = .seconds(30), timeout: Duration = .seconds(60),
        _ body: @Sendable () async throws -> R
    ) async throws -> R {
        let lock = try await acquireLock(name, context: context, lease: lease, timeout: timeout)
        let renewal = Task(executorPreference: DedicatedExecutor.shared) { await lock.renewUntilCancelled() }
        let result: Result<R, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        renewal.cancel()
        // A later generation means another holder took over; look once more before releasing.
        let renewed = await renewal.value
        var stillHeld = renewed
        if renewed { stillHeld = (try? await lockGenerations(lock.base).last) == lock.generation }
        await lock.release()
        let value = try result.get()
        guard stillHeld else {
            throw LocalStorageError(
                code: .remote, operation: .lock, path: lock.path,
                message: "the lock's lease was lost while the body ran (another holder took it over)",
                remoteErrorCode: "LockLost")
        }
        return value
    }

    func acquireLock(_ name: String, context: String, lease: Duration, timeout: Duration) async throws -> HeldLock {
        try StorageNames.validateFileName(name, operation: .lock)
        let components = try StorageNames.contextComponents(context, operation: .lock).map(String.init)
        // The reserved prefix: no stored file can have this name, and listings leave it out.
        let lockName = StorageNames.reservedPrefix + "lock." + name + "."
        let base = ((prefix.isEmpty ? [] : [prefix]) + components + [lockName]).joined(separator: "/")
        let lockPath = "s3://\(bucket)/\(base)*"
        let leaseSeconds = max(1, Int(lease.components.seconds))
        let deadline = ContinuousClock.now + timeout
        var pause: Duration = .milliseconds(20)
        while true {
            let generations = try await lockGenerations(base)
            var next = 1
            if let highest = generations.last {
                next = highest + 1
                if try await !generationIsFree(base, highest) {
                    guard ContinuousClock.now < deadline else {
                        throw LocalStorageError(
                            code: .timedOut, operation: .lock, path: lockPath,
                            message: "the lock is held (generation \(highest)); not acquired within \(timeout)")
                    }
                    try await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(1))
                    continue
                }
            }
            let key = base + Self.generationName(next)
            let created = try await connection.send(
                S3Request(
                    method: .PUT, key: key, headers: [("if-none-match", "*")],
                    body: .bytes(ByteBuffer(string: "lease=\(leaseSeconds)\n")), idempotent: false),
                operation: .lock, path: lockPath, accept: [412, 409])
            if created.status == 200 {
                // Earlier generations are history now.
                for old in generations {
                    _ = try? await connection.send(
                        S3Request(method: .DELETE, key: base + Self.generationName(old)), operation: .lock, path: lockPath)
                }
                return HeldLock(storage: self, base: base, generation: next, leaseSeconds: leaseSeconds, path: lockPath)
            }
            // Another contender created it first: look again.
        }
    }

    /// The generation numbers under `base`, ascending.
    func lockGenerations(_ base: String) async throws -> [Int] {
        let response = try await connection.send(
            S3Request(method: .GET, query: [("list-type", "2"), ("prefix", base)]), operation: .lock, path: "s3://\(bucket)/\(base)*")
        let document = XMLElementNode.parse(Data(response.body.readableBytesView))
        return (document?.children("Contents") ?? []).compactMap { $0.text("Key").flatMap { Int($0.dropFirst(base.count)) } }.sorted()
    }

    /// Whether a generation was released, or its lease ran out by the server's clock.
    func generationIsFree(_ base: String, _ generation: Int) async throws -> Bool {
        let response = try await connection.send(
            S3Request(method: .GET, key: base + Self.generationName(generation)), operation: .lock, path: "s3://\(bucket)/\(base)*",
            accept: [404])
        if response.status == 404 { return true }
        let text = String(buffer: response.body)
        guard let lease = text.split(separator: "\n").first(where: { $0.hasPrefix("lease=") }).flatMap({ Int($0.dropFirst(6)) }),
            lease > 0
        else { return true }  // "lease=0": released.
        guard let modified = response.headers.first(name: "last-modified").flatMap(httpDate),
            let now = response.headers.first(name: "date").flatMap(httpDate)
        else { return false }
        // Both dates have one-second resolution: wait a second more than the lease.
        return now.timeIntervalSince(modified) > Double(lease + 1)
    }

    static func generationName(_ generation: Int) -> String {
        let digits = String(generation)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}

/// A lock generation this process created.
final class HeldLock: Sendable {
    let storage: S3Storage
    let base: String
    let generation: Int
    let leaseSeconds: Int
    let path: String

    init(storage: S3Storage, base: String, generation: Int, leaseSeconds: Int, path: String) {
        self.storage = storage
        self.base = base
        self.generation = generation
        self.leaseSeconds = leaseSeconds
        self.path = path
    }

    var key: String { base + S3Storage.generationName(generation) }

    /// Rewrites the generation every third of the lease (its Last-Modified is the lease's start)
    /// and checks that no later generation appeared; returns false as soon as one did, true when
    /// cancelled without having seen one.
    func renewUntilCancelled() async -> Bool {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(Double(leaseSeconds) / 3))
            } catch {
                break
            }
            do {
                _ = try await storage.connection.send(
                    S3Request(method: .PUT, key: key, body: .bytes(ByteBuffer(string: "lease=\(leaseSeconds)\n"))),
                    operation: .lock, path: path)
                if try await storage.lockGenerations(base).last != generation { return false }
            } catch {
                // A failed renewal is retried at the next tick; the lease covers two of them.
                continue
            }
        }
        return true
    }

    /// Marks the generation released ("lease=0"), so the next contender need not wait.
    func release() async {
        let connection = storage.connection
        let request = S3Request(method: .PUT, key: key, body: .bytes(ByteBuffer(string: "lease=0\n")))
        let path = path
        _ = await Task(executorPreference: DedicatedExecutor.shared) {
            try? await connection.send(request, operation: .lock, path: path)
        }.value
    }
}
#endif
