#if Benchmark
import CLocalStorage
import Foundation
import Glibc
import LocalStorage

/// The shared state workloads are built from: the scratch layout, one `LocalStorage` per
/// durability level on the same root, the descriptors the raw loops hold, and the payload.
///
/// Layout under the scratch directory:
/// - `store/` — the engine's root; `store/<context>/` is where every contender reads and writes,
///   so the engine and its baselines work in the same directory of the same file system.
/// - `sources/` — input files for the ingest rows (outside the store).
final class BenchContext {
    let settings: BenchSettings
    let scratch: ScratchDirectory
    /// Absolute path of the engine's root.
    let storeRoot: String
    /// The context every workload uses.
    let context: String
    /// Absolute path of the context's directory (the engine's, the raw loops' and Foundation's).
    let directoryPath: String
    /// Where ingest source files live.
    let sourcesPath: String
    /// The context directory, held open for the raw loops (a plain program opens it once).
    let directoryFD: CInt
    /// The store's root, held open for the confined raw loops (as the engine holds it).
    let rootFD: CInt
    /// python3 for the listing baseline, if the machine has one.
    let python: PythonBaseline?
    private var storages: [Durability: LocalStorage] = [:]
    private var cachedPayload: (size: Int, data: Data)?
    private var cachedSource: (size: Int, path: String)?
    /// Names of the small-file fixture currently on disk in the context directory.
    private var fixture: [String] = []

    init(settings: BenchSettings, scratch: ScratchDirectory) throws {
        self.settings = settings
        self.scratch = scratch
        storeRoot = scratch.path + "/store"
        context = settings.context
        directoryPath = context.isEmpty ? storeRoot : storeRoot + "/" + context
        sourcesPath = scratch.path + "/sources"
        for durability in Durability.allCases {
            do {
                storages[durability] = try LocalStorage(storagePath: storeRoot, durability: durability)
            } catch {
                throw BenchError("cannot open a LocalStorage at \(storeRoot): \(error)")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: directoryPath, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: sourcesPath, withIntermediateDirectories: true)
        } catch {
            throw BenchError("cannot create directories under \(scratch.path): \(error.localizedDescription)")
        }
        directoryFD = try BenchContext.openDirectory(directoryPath)
        do {
            rootFD = try BenchContext.openDirectory(storeRoot)
        } catch {
            _ = CLocalStorage_close(directoryFD)
            throw error
        }
        python = PythonBaseline.find()
    }

    deinit {
        _ = CLocalStorage_close(directoryFD)
        _ = CLocalStorage_close(rootFD)
    }

    /// A descriptor on the directory at `path` (the caller closes it).
    static func openDirectory(_ path: String) throws -> CInt {
        let fd = CLocalStorage_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        if fd < 0 { throw BenchError("cannot open \(path): \(errnoDescription(CLocalStorage_errno()))") }
        return fd
    }

    /// `name` in the context, as a path relative to the store root (what the engine resolves).
    func pathBeneathRoot(_ name: String) -> String { context.isEmpty ? name : context + "/" + name }

    /// A context below the benchmark's context (`<context>/<name>`, or `<name>` at the root).
    func subcontext(_ name: String) -> String { context.isEmpty ? name : context + "/" + name }

    /// The engine at `durability`; every level shares the same root.
    func storage(_ durability: Durability) throws -> LocalStorage {
        guard let storage = storages[durability] else {
            throw BenchError("no LocalStorage for \(durability.name)")
        }
        return storage
    }

    /// The input bytes for objects of `size`: generated once and shared by every workload (and
    /// every contender) of that size. Only one payload is kept, so memory stays bounded when
    /// the plan runs size by size.
    func payload(size: Int) -> Data {
        if let cached = cachedPayload, cached.size == size { return cached.data }
        cachedPayload = nil
        let data = makePayload(size: size, seed: UInt64(size))
        cachedPayload = (size, data)
        return data
    }

    /// A regular file of `size` payload bytes outside the store, written and flushed once and
    /// shared by the ingest rows of that size; the previous size's file is deleted.
    func sourceFile(size: Int) throws -> String {
        if let cached = cachedSource, cached.size == size { return cached.path }
        releaseSource()
        let path = sourcesPath + "/ingest-\(sizeID(size))"
        do {
            try payload(size: size).write(to: URL(fileURLWithPath: path))
        } catch {
            throw BenchError("cannot write the ingest source \(path): \(error.localizedDescription)")
        }
        settle()
        cachedSource = (size, path)
        return path
    }

    /// Deletes the cached ingest source file.
    func releaseSource() {
        if let cached = cachedSource { unlink(cached.path) }
        cachedSource = nil
    }

    /// The small-file directory's names and the bytes of each file (the same for every row
    /// that uses it, so `ensureFixture` creates it once).
    func smallFixture() -> (names: [String], bytes: Data) {
        ((0..<settings.smallFileCount).map { "file-\($0)" }, makePayload(size: settings.smallFileSize, seed: 4096))
    }

    /// Makes sure the small-file fixture (`names`, each holding `bytes`) is in the context
    /// directory: created once by the raw loop, then shared by the read-only rows.
    func ensureFixture(names: [String], bytes: Data) throws {
        if fixture == names { return }
        dropFixture()
        try bytes.withUnsafeBytes { try RawSyscalls.createFiles($0, directory: directoryFD, names: names) }
        fixture = names
        settle()
    }

    /// Deletes the small-file fixture.
    func dropFixture() {
        RawSyscalls.removeAll(directory: directoryFD, names: fixture)
        fixture = []
    }

    /// Absolute path of a name in the shared context directory.
    func path(_ name: String) -> String { directoryPath + "/" + name }

    /// A directory `name` under the scratch directory (outside the store), created if missing:
    /// the other roots and the Python caches of the pipeline-cache rows.
    func scratchDirectory(_ name: String) throws -> String {
        let path = scratch.path + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw BenchError("cannot create \(path): \(error.localizedDescription)")
        }
        return path
    }

    /// This executable, for the workers of the process rows (`--child`).
    func selfExecutable() throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw BenchError("cannot find this executable through /proc/self/exe: \(error.localizedDescription)")
        }
    }

    /// Writes back everything dirty on the scratch file system, so no measurement pays for an
    /// earlier one's writeback. Called after every run (untimed).
    func settle() { scratch.syncFileSystem() }
}

/// Deterministic, incompressible bytes (xorshift64*): no zero pages, no dedup-friendly runs.
func makePayload(size: Int, seed: UInt64) -> Data {
    guard size > 0 else { return Data() }
    var data = Data(count: size)
    data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
        let whole = buffer.count / 8 * 8
        var offset = 0
        while offset < whole {
            buffer.storeBytes(of: next(), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < buffer.count {
            buffer[offset] = UInt8(truncatingIfNeeded: next())
            offset += 1
        }
    }
    return data
}

extension Durability {
    /// `noSync`, `fileSync`, `fullSync`.
    var name: String {
        switch self {
        case .noSync: "noSync"
        case .fileSync: "fileSync"
        case .fullSync: "fullSync"
        }
    }
}

/// `strerror` text with the symbolic name, e.g. "Permission denied (errno 13)".
func errnoDescription(_ code: CInt) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
#endif
