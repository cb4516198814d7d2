#if Benchmark
import CLocalStorage
import Foundation
import Glibc

/// The Python side of the pipeline-cache rows: python-diskcache and the seed's storage, on the
/// same object (`PipelineRecord`, as a dataclass), in one script with two uses:
///
/// - `serve`: one python3 process per row answers requests on its standard input, one line
///   each, timing the work inside the interpreter (perf_counter_ns) as `PythonLister` does, so
///   neither the interpreter's start nor the pipe is counted;
/// - `memoize-child` and `lock-child`: one process per worker of the process rows (see
///   `ChildGroup` for the protocol of their output lines).
enum PythonCacheScript {
    static let source = #"""
        import os, sys, time, pickle, datetime
        from dataclasses import dataclass

        try:
            import diskcache
            from diskcache.recipes import Lock
        except ImportError:
            diskcache = None

        @dataclass
        class PipelineRecord:
            id: int
            name: str
            step: str
            input_hash: str
            version: int
            created_at: datetime.datetime
            duration_seconds: float
            rows: int
            columns: int
            learning_rate: float
            epochs: int
            batch_size: int
            seed: int
            accuracy: float
            loss: float
            validated: bool
            tags: list
            parameters: dict
            note: str
            embedding: list

        def make_record(id):
            return PipelineRecord(
                id=id, name=f"model-{id}", step="train",
                input_hash=format((id * 0x9E3779B97F4A7C15) % (1 << 64), "016x") * 4,
                version=3, created_at=datetime.datetime.fromtimestamp(1760000000 + id, tz=datetime.timezone.utc),
                duration_seconds=12.5, rows=100000, columns=1000, learning_rate=0.001, epochs=20, batch_size=256,
                seed=42, accuracy=0.9731, loss=0.0842, validated=True, tags=["embedding", "v3", "production"],
                parameters={"dropout": 0.1, "weightDecay": 0.0001, "momentum": 0.9, "warmupSteps": 500.0},
                note=f"trained on shard {id}",
                embedding=[((i * 7919 + id) % 1000) / 1000 for i in range(1000)])

        def check(value, id):
            if not isinstance(value, PipelineRecord) or value.id != id or len(value.embedding) != 1000:
                raise RuntimeError(f"unexpected value: {type(value).__name__}")

        def now():
            return time.clock_gettime_ns(time.CLOCK_MONOTONIC)

        def emit(*fields):
            print(*fields, flush=True)

        def serve(cache_dir):
            cache = diskcache.Cache(cache_dir) if diskcache else None
            memoized = None
            if cache is not None:
                @cache.memoize(name="compute")
                def memoized(key):
                    return record
            record = make_record(1)
            emit("ready", 1 if cache is not None else 0)
            for line in sys.stdin:
                words = line.split()
                try:
                    command = words[0]
                    if command == "diskcache-set":
                        cache.set(words[1], make_record(int(words[2])))
                        emit("ok")
                    elif command == "diskcache-get":
                        key, id, count = words[1], int(words[2]), int(words[3])
                        start = time.perf_counter_ns()
                        for _ in range(count):
                            value = cache.get(key)
                        elapsed = time.perf_counter_ns() - start
                        check(value, id)
                        emit(elapsed)
                    elif command == "seed-put":
                        with open(words[1], "wb") as file:
                            pickle.dump(make_record(int(words[2])), file)
                        emit("ok")
                    elif command == "seed-get":
                        path, id, count = words[1], int(words[2]), int(words[3])
                        start = time.perf_counter_ns()
                        for _ in range(count):
                            if os.path.exists(path):
                                with open(path, "rb") as file:
                                    value = pickle.loads(file.read())
                            else:
                                value = None
                        elapsed = time.perf_counter_ns() - start
                        check(value, id)
                        emit(elapsed)
                    elif command == "memoize-miss":
                        first, count = int(words[1]), int(words[2])
                        start = time.perf_counter_ns()
                        for key in range(first, first + count):
                            value = memoized(key)
                        elapsed = time.perf_counter_ns() - start
                        check(value, 1)
                        stored = len(cache)
                        cache.clear()
                        if stored != count:
                            raise RuntimeError(f"memoize stored {stored} of {count} entries")
                        emit(elapsed)
                    else:
                        raise RuntimeError(f"unknown command {command}")
                except Exception as error:
                    emit("error", f"{type(error).__name__}: {error}".replace("\n", " "))

        def child(mode, cache_dir, key, compute_seconds, index, expire):
            cache = diskcache.Cache(cache_dir)
            computed = 0

            def compute():
                nonlocal computed
                computed += 1
                emit("computing", index, now())
                time.sleep(compute_seconds)
                return make_record(1)

            if mode == "memoize-child":
                @cache.memoize(name="stampede")
                def get(key):
                    return compute()
            else:
                def get(key):
                    with Lock(cache, "lock-" + key, expire=expire):
                        value = cache.get(key)
                        if value is None:
                            value = compute()
                            cache.set(key, value)
                        return value
            emit("ready", index)
            sys.stdin.readline()
            value = get(key)
            check(value, 1)
            emit("done", index, computed, now())

        if __name__ == "__main__":
            mode = sys.argv[1]
            if mode == "serve":
                serve(sys.argv[2])
            else:
                index = int(sys.argv[5])
                try:
                    if diskcache is None:
                        raise RuntimeError("python-diskcache is not installed")
                    child(mode, sys.argv[2], sys.argv[3], float(sys.argv[4]), index, float(sys.argv[6]))
                except Exception as error:
                    emit("error", index, f"{type(error).__name__}: {error}".replace("\n", " "))
                    sys.exit(1)
        """#
}

/// One python3 process serving a row's diskcache and seed contenders (see `PythonCacheScript`).
final class PythonCacheWorker {
    private let process = Process()
    private let requests = Pipe()
    private let answers = Pipe()
    private let reader: LineReader
    /// Whether `import diskcache` worked in this interpreter.
    let hasDiskcache: Bool

    /// Starts the interpreter with its diskcache directory at `cacheDirectory`.
    init(_ python: PythonBaseline, cacheDirectory: String) throws {
        process.executableURL = URL(fileURLWithPath: python.executable)
        process.arguments = ["-c", PythonCacheScript.source, "serve", cacheDirectory]
        process.standardInput = requests
        process.standardOutput = answers
        process.standardError = FileHandle.nullDevice
        try process.run()
        reader = LineReader(fd: answers.fileHandleForReading.fileDescriptor)
        let ready: String
        do {
            ready = try reader.line(timeoutSeconds: 60)
        } catch {
            try? requests.fileHandleForWriting.close()
            process.waitUntilExit()
            throw BenchError("python3 cache script did not start: \(error)")
        }
        hasDiskcache = ready == "ready 1"
        guard ready.hasPrefix("ready ") else {
            stop()
            throw BenchError("python3 cache script: \(ready)")
        }
    }

    /// Sends one request; returns its answer line, or throws the script's error.
    func request(_ words: String) throws -> String {
        try requests.fileHandleForWriting.write(contentsOf: Data((words + "\n").utf8))
        let answer = try reader.line(timeoutSeconds: 600)
        if answer.hasPrefix("error") { throw BenchError("python3 (\(words.split(separator: " ").first ?? "")): \(answer)") }
        return answer
    }

    /// A timed request: the nanoseconds the script measured, as the row's seconds.
    func timed(_ words: String) throws -> MeasuredSeconds {
        let answer = try request(words)
        guard let nanoseconds = Double(answer) else { throw BenchError("python3: \(answer)") }
        return MeasuredSeconds(seconds: nanoseconds / 1e9)
    }

    /// Closes its input (it then exits) and waits for it.
    func stop() {
        try? requests.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Lines from a pipe, with a deadline: a child that hangs makes the row fail instead of the run.
final class LineReader {
    let fd: CInt
    private var pending: [UInt8] = []
    /// Set once the writer side closed.
    private(set) var atEnd = false

    init(fd: CInt) { self.fd = fd }

    /// A complete line already read, if any.
    func bufferedLine() -> String? {
        guard let end = pending.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: pending[..<end], as: UTF8.self)
        pending.removeSubrange(...end)
        return line
    }

    /// Reads what the pipe holds now (after poll said it is readable); false at end of file.
    @discardableResult
    func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw BenchError("read from a child: \(errnoDescription(errno))") }
            if got == 0 { atEnd = true; return false }
            pending += chunk[..<got]
            return true
        }
    }

    /// The next line; throws when the writer exits first or nothing comes within the timeout.
    func line(timeoutSeconds: Double) throws -> String {
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while true {
            if let line = bufferedLine() { return line }
            if atEnd { throw BenchError("the child exited without an answer") }
            let now = monotonicNanoseconds()
            guard now < deadline else { throw BenchError("no answer from the child within \(Int(timeoutSeconds)) s") }
            let ready = CLocalStorage_poll_one(fd, Int16(POLLIN), CInt(min(1_000, (deadline - now) / 1_000_000 + 1)))
            if ready < 0 && errno != EINTR { throw BenchError("poll: \(errnoDescription(errno))") }
            if ready > 0 { try fill() }
        }
    }
}
#endif
