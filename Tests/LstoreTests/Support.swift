// Running the built lstore as a child process through pipes, and temp directories.
import CLocalStorage
import Foundation
import Glibc
import Synchronization
import Testing

/// Where the lstore executable is, when it was built with the CLI trait.
enum Lstore {
    /// Whether this build has the CLI trait: without it, lstore only says how to build it, so
    /// the tests that run it are skipped (each suite says so with `.enabled(if:)`).
    static let builtWithTrait: Bool = {
        #if CLI
        true
        #else
        false
        #endif
    }()

    /// The executable, built by SwiftPM next to the test binary.
    static let path: String? = {
        guard builtWithTrait,
            let testBinary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        else { return nil }
        var directory = (testBinary as NSString).deletingLastPathComponent
        if directory.hasSuffix(".xctest") { directory = (directory as NSString).deletingLastPathComponent }
        let candidate = directory + "/lstore"
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }()

    /// Whether the binary can be run.
    static var available: Bool { path != nil }

    /// The reason shown when the suites that run the binary are skipped.
    static let skipReason: Comment = "lstore is built only with the CLI trait: swift test --traits CLI"
}

/// A real temporary directory, removed when the value goes away.
final class TempDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/lstore-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        path = try #require(made.map { String(cString: $0) }, "mkdtemp failed")
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func at(_ relative: String) -> String { path + "/" + relative }
}

/// A pipe whose two ends are closed on exec (a child gets only what it is handed as 0, 1, 2),
/// so that no other child keeps a write end open and an end of input is seen.
struct PipeEnds {
    var read: CInt
    var write: CInt

    init() throws {
        var fds: [CInt] = [-1, -1]
        try #require(CLocalStorage_pipe2(&fds, O_CLOEXEC) == 0, "pipe2 failed: \(errno)")
        read = fds[0]
        write = fds[1]
    }
}

/// A running child process.
struct Child {
    let pid: pid_t

    /// Starts `executable` with `arguments`, its standard descriptors set to the given ones.
    static func spawn(_ executable: String, _ arguments: [String], stdin: CInt, stdout: CInt, stderr: CInt) throws -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        try #require(result == 0, "posix_spawn \(executable) failed: \(String(cString: strerror(result)))")
        return Child(pid: pid)
    }

    /// Waits for the child and reaps it: its status as a shell reports it (128 + N when
    /// signal N killed it).
    func wait() -> Int32 {
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Whether the child has exited, without reaping it.
    var hasExited: Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return result == 0 && info.si_signo == SIGCHLD
    }
}

/// What a finished run of lstore gave.
struct Output {
    var status: Int32
    var stdoutBytes: [UInt8]
    var stdout: String
    var stderr: String

    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    /// Whether standard error holds exactly one line, `lstore: <message>`.
    var isOneErrorLine: Bool {
        stderr.hasPrefix("lstore: ") && stderr.hasSuffix("\n") && stderr.filter { $0 == "\n" }.count == 1
    }
}

/// Runs lstore with `arguments`, `input` on its standard input (through a pipe; /dev/null when
/// nil) or `stdinFD`, `stdoutFD` as its standard output if given; collects standard output and
/// standard error.
func lstore(_ arguments: [String], input: [UInt8]? = nil, stdinFD: CInt? = nil, stdoutFD: CInt? = nil) throws -> Output {
    let executable = try #require(Lstore.path)
    let out = try PipeEnds()
    let err = try PipeEnds()
    var inputPipe: PipeEnds?
    let stdin: CInt
    if let stdinFD {
        stdin = stdinFD
    } else if input != nil {
        let made = try PipeEnds()
        inputPipe = made
        stdin = made.read
    } else {
        stdin = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }
    let child = try Child.spawn(executable, arguments, stdin: stdin, stdout: stdoutFD ?? out.write, stderr: err.write)
    close(out.write)
    close(err.write)
    if stdinFD == nil { close(stdin) }
    var writer: Thread?
    let written = DispatchSemaphore(value: 0)
    if let input, let inputPipe {
        let fd = inputPipe.write
        writer = Thread {
            input.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(fd)
            written.signal()
        }
        writer?.start()
    }
    let (stdout, stderr) = readBoth(out.read, err.read)
    if writer != nil { written.wait() }
    return Output(
        status: child.wait(), stdoutBytes: stdout, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// Reads two descriptors to their ends, in turn as data comes (so neither pipe fills up and
/// blocks the child), and closes them.
func readBoth(_ first: CInt, _ second: CInt) -> ([UInt8], [UInt8]) {
    var results: [[UInt8]] = [[], []]
    var fds = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
    var open = 2
    var buffer = [UInt8](repeating: 0, count: 65536)
    while open > 0 {
        if poll(&fds, 2, -1) < 0 {
            if errno == EINTR { continue }
            break
        }
        for index in 0..<2 where fds[index].fd >= 0 && fds[index].revents != 0 {
            let n = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
            if n > 0 {
                results[index].append(contentsOf: buffer[..<n])
            } else if n == 0 || errno != EINTR {
                close(fds[index].fd)
                fds[index].fd = -1
                open -= 1
            }
        }
    }
    return (results[0], results[1])
}

/// Sets a file's access and modification times to `secondsAgo` before now.
func age(_ path: String, secondsAgo: Int) {
    let then = timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0)
    let times = [then, then]
    #expect(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) == 0, "utimensat \(path)")
}

/// Overwrites one byte of a file (xor 0x20), behind the storage's back.
func flipByte(_ path: String, at offset: Int) throws {
    let fd = open(path, O_RDWR | O_CLOEXEC)
    try #require(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var byte: UInt8 = 0
    try #require(pread(fd, &byte, 1, off_t(offset)) == 1)
    byte ^= 0x20
    try #require(pwrite(fd, &byte, 1, off_t(offset)) == 1)
}

/// Samples a running child's own peak resident memory: VmHWM in /proc/<pid>/status, the
/// high-water mark of the memory mapped since its exec, every 2 ms until the child exits.
///
/// wait4's ru_maxrss cannot be used for this: posix_spawn (clone with CLONE_VM) makes the child
/// exec from the spawner's address space, and the kernel records that address space's
/// high-water mark, the test process's, as the child's maxrss at exec. VmHWM belongs to the
/// address space exec made. Being a high-water mark, sampling misses only what the child would
/// map in its last 2 ms.
final class PeakMemoryProbe: Sendable {
    private let peak = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(_ child: Child) {
        let thread = Thread { [self] in
            // Stops once the child has exited (a zombie has no memory), before it is reaped, so
            // its pid cannot have been reused.
            while !child.hasExited {
                if let kib = vmHighWaterMarkKiB(child.pid) { peak.store(max(peak.load(ordering: .relaxed), kib), ordering: .relaxed) }
                usleep(2_000)
            }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the child to exit (without reaping it) and returns the highest VmHWM seen,
    /// in KiB; 0 if none could be read.
    func finish() -> Int {
        done.wait()
        return peak.load(ordering: .relaxed)
    }
}

/// The VmHWM line of /proc/<pid>/status, in KiB.
private func vmHighWaterMarkKiB(_ pid: pid_t) -> Int? {
    let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 8192)
    let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard got > 0 else { return nil }
    let text = String(decoding: buffer[..<got], as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
    // "VmHWM:\t   28960 kB"
    return line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
}
