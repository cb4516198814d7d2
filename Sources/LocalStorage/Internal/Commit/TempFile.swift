import Glibc
import Synchronization

/// A file under a temp name in a context directory, being filled or about to be committed.
struct TempFile {
    var fd: CInt
    var name: String
    /// Whether the engine opened the descriptor (and closes it once the file is committed or
    /// discarded). A moved-in file's descriptor is the move's own, closed by the move.
    var ownsDescriptor: Bool
    /// Its permission bits now: 0600 for a file the engine created, the source's for a moved-in
    /// file.
    var mode: mode_t = 0o600
    /// Bytes reserved with fallocate past what is written; trimmed before the commit.
    var reserved: Int = 0
}

/// Unpredictable temp names without a getrandom per name: SipHash (Swift's `Hasher`, seeded
/// per process) of a per-instance random key and a counter. O_EXCL makes a collision an error
/// rather than a risk; unpredictability keeps another local user from planting the next name.
final class TempNameSource: Sendable {
    private let key: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        key = generator.next()
    }

    /// `.ls-tmp-` followed by 16 hex digits.
    func next() -> String {
        #if ENABLE_MOCKING
        if let forced = FaultInjector.current?.takeTempName() { return forced }
        #endif
        var hasher = Hasher()
        hasher.combine(key)
        hasher.combine(counter.add(1, ordering: .relaxed).newValue)
        var value = UInt64(bitPattern: Int64(hasher.finalize()))
        var name = reservedTempPrefix
        name.reserveCapacity(reservedTempPrefix.utf8.count + 16)
        let digits = Array("0123456789abcdef".unicodeScalars)
        for _ in 0..<16 {
            name.unicodeScalars.append(digits[Int(value & 0xf)])
            value >>= 4
        }
        return name
    }
}

extension Engine {
    /// Creates a temp file with a fresh reserved name (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600;
    /// readable too, so that its content can be carried over if its directory is removed),
    /// retrying a name that exists, and locks it (flock, released by the kernel if this process
    /// dies) to tell orphan cleanup that a live writer owns it.
    func createTempFile(in directory: CInt) throws(SyscallError) -> TempFile {
        var attempts = 0
        while true {
            let name = tempNames.next()
            let fd: CInt
            do {
                fd = try withCString(name) { path throws(SyscallError) in
                    try retrying(.openat) { system_openat(directory, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
                }
            } catch  where error.errno == .fileExists && attempts < 16 {
                attempts += 1
                continue
            }
            do {
                _ = try retrying(.flock) { system_flock(fd, LOCK_EX) }
            } catch {
                discard(TempFile(fd: fd, name: name, ownsDescriptor: true), in: directory)
                throw error
            }
            return TempFile(fd: fd, name: name, ownsDescriptor: true)
        }
    }

    /// Removes an uncommitted temp file and closes it (best effort: a leftover is collected by
    /// orphan cleanup once its lock is gone).
    func discard(_ temp: TempFile, in directory: CInt) {
        _ = try? retrying(.unlinkat) { system_unlinkat(directory, temp.name, 0) }
        if temp.ownsDescriptor { closeDescriptor(temp.fd) }
    }
}
