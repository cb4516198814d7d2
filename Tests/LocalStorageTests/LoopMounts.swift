import CLocalStorage
import Foundation
import Glibc
import Testing

// Loop devices and mounts for the suites that need a real file system of a given kind: the
// power-loss suite (ext4 or XFS on a loop device over a file on XFS, cloned at the moment of a
// cut) and the XFS reflink tests. Everything is undone in reverse order, also when a check fails;
// what a killed test process left is found by its directory name and undone at the next start.

/// The file systems the suites build on loop devices.
enum FileSystemKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case ext4, xfs
    var testDescription: String { rawValue }
}

/// What the machine must offer, checked without touching anything (root, tools, kernel
/// support). A failed mount at run time is reported by the test itself.
enum LoopMountEnvironment {
    static let tools = ["losetup", "mount", "umount", "mkfs.xfs", "mkfs.ext4", "e2fsck", "xfs_repair"]

    /// Why the suites cannot run here, or nil.
    static let missing: String? = {
        if geteuid() != 0 { return "needs root for loop devices and mounts" }
        if access("/dev/loop-control", F_OK) != 0 { return "no /dev/loop-control (loop devices unavailable)" }
        let absent = tools.filter { toolPath($0) == nil }
        if !absent.isEmpty {
            return "missing \(absent.joined(separator: ", ")) (apt-get install -y xfsprogs e2fsprogs)"
        }
        let filesystems = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        for kind in FileSystemKind.allCases where !filesystems.contains("\t\(kind.rawValue)\n") {
            return "the kernel does not support \(kind.rawValue)"
        }
        return nil
    }()

    /// LOCALSTORAGE_REQUIRE_POWERLOSS=1 (CI sets it): a suite that cannot mount fails instead of
    /// skipping.
    static let required = ProcessInfo.processInfo.environment["LOCALSTORAGE_REQUIRE_POWERLOSS"] == "1"

    /// The `.enabled(if:)` condition: run where possible, and where required (to fail loudly).
    static var shouldRun: Bool { missing == nil || required }
    static var skipReason: Comment { Comment(rawValue: "skipped: \(missing ?? "")") }

    /// Ends a test that could not set up its mounts: a failure where required, else a skip.
    static func unavailable(_ failure: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Never {
        // What the machine lacks says more than the call it made fail.
        let reason = missing ?? failure
        if required {
            Issue.record("LOCALSTORAGE_REQUIRE_POWERLOSS=1 but: \(reason)", sourceLocation: sourceLocation)
        }
        try Test.cancel(Comment(rawValue: "skipped: \(reason)"), sourceLocation: sourceLocation)
    }
}

/// The absolute path of an administration tool, or nil.
func toolPath(_ name: String) -> String? {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
}

struct CommandFailed: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var output: String
    var description: String { "`\(command)` exited \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))" }
}

/// Runs a tool to completion; returns its status and its standard output and error, merged.
@discardableResult
func runTool(_ name: String, _ arguments: [String], check: Bool = true) throws -> (status: Int32, output: String) {
    guard let path = toolPath(name) else { throw CommandFailed(command: name, status: -1, output: "not installed") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    let command = ([name] + arguments).joined(separator: " ")
    if check && process.terminationStatus != 0 {
        throw CommandFailed(command: command, status: process.terminationStatus, output: text)
    }
    return (process.terminationStatus, text)
}

/// Loop devices, mounts and files to undo, most recent first. `undoAll` never stops at a
/// failure: a busy mount is retried, then detached lazily, so no loop device stays attached.
final class TeardownStack {
    enum Step {
        case unmount(String)
        case detach(String)
        case remove(String)
    }

    private var steps: [Step] = []

    func push(_ step: Step) { steps.append(step) }

    /// Undoes `step` now if it is on the stack (for things made and unmade in a loop).
    func undo(_ step: Step) {
        guard let index = steps.lastIndex(where: { $0.matches(step) }) else { return }
        let found = steps.remove(at: index)
        Self.perform(found)
    }

    func undoAll() {
        while let step = steps.popLast() { Self.perform(step) }
    }

    deinit { undoAll() }

    static func perform(_ step: Step) {
        switch step {
        case .unmount(let path):
            // EBUSY for a moment after the last file closes: retry, then detach lazily so the
            // loop device under it is released all the same.
            for attempt in 0..<20 {
                if umount2(path, 0) == 0 || errno == EINVAL || errno == ENOENT { return }
                usleep(UInt32(20_000 * (attempt + 1)))
            }
            _ = umount2(path, CInt(MNT_DETACH))
        case .detach(let device):
            let fd = open(device, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            for attempt in 0..<20 {
                if ioctl(fd, loopClearFD) == 0 || errno == ENXIO { return }
                usleep(UInt32(20_000 * (attempt + 1)))
            }
        case .remove(let path):
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

extension TeardownStack.Step {
    func matches(_ other: Self) -> Bool {
        switch (self, other) {
        case (.unmount(let a), .unmount(let b)), (.detach(let a), .detach(let b)), (.remove(let a), .remove(let b)): return a == b
        default: return false
        }
    }
}

// <linux/loop.h>, which Swift does not import.
private let loopControlGetFree: UInt = 0x4C82
private let loopConfigure: UInt = 0x4C0A
private let loopClearFD: UInt = 0x4C01
private let loopFlagDirectIO: UInt32 = 16
/// struct loop_config: fd (u32), block_size (u32), struct loop_info64 (232 bytes: lo_flags at
/// 52, lo_file_name[64] at 56), 8 reserved u64.
private let loopConfigSize = 304
private let loopConfigFlagsOffset = 8 + 52
private let loopConfigNameOffset = 8 + 56

struct SystemCallFailed: Error, CustomStringConvertible {
    var call: String
    var errno: CInt
    var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// Attaches `file` to a free loop device with LOOP_CONFIGURE (direct I/O if asked: writes then
/// reach the file as they complete, with no page cache of the loop's own) and returns its path.
/// The ioctls rather than losetup: a cut attaches and detaches one, and spawning the tool cost
/// more than the rest of the cut.
func attachLoop(_ file: String, directIO: Bool, teardown: TeardownStack) throws -> String {
    let backing = open(file, O_RDWR | O_CLOEXEC)
    guard backing >= 0 else { throw SystemCallFailed(call: "open \(file)", errno: errno) }
    defer { close(backing) }
    let control = open("/dev/loop-control", O_RDWR | O_CLOEXEC)
    guard control >= 0 else { throw SystemCallFailed(call: "open /dev/loop-control", errno: errno) }
    defer { close(control) }
    var config = [UInt8](repeating: 0, count: loopConfigSize)
    config.withUnsafeMutableBytes { bytes in
        bytes.storeBytes(of: UInt32(backing), toByteOffset: 0, as: UInt32.self)
        bytes.storeBytes(of: directIO ? loopFlagDirectIO : 0, toByteOffset: loopConfigFlagsOffset, as: UInt32.self)
        for (index, byte) in file.utf8.suffix(63).enumerated() { bytes[loopConfigNameOffset + index] = byte }
    }
    // Another process may take the free device first: EBUSY, ask again.
    for _ in 0..<32 {
        let number = ioctl(control, loopControlGetFree)
        guard number >= 0 else { throw SystemCallFailed(call: "LOOP_CTL_GET_FREE", errno: errno) }
        let device = "/dev/loop\(number)"
        let fd = open(device, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallFailed(call: "open \(device)", errno: errno) }
        defer { close(fd) }
        let configured = config.withUnsafeMutableBytes { bytes in bytes.baseAddress.map { ioctl(fd, loopConfigure, $0) } ?? -1 }
        if configured != 0 && errno == EBUSY { continue }
        guard configured == 0 else { throw SystemCallFailed(call: "LOOP_CONFIGURE \(device)", errno: errno) }
        teardown.push(.detach(device))
        if directIO {
            // The driver falls back to buffered I/O when the backing file refuses O_DIRECT.
            let flag = (try? String(contentsOfFile: "/sys/block/loop\(number)/loop/dio", encoding: .utf8)) ?? ""
            guard flag.hasPrefix("1") else { throw SystemCallFailed(call: "LOOP_CONFIGURE \(device) with direct I/O", errno: EOPNOTSUPP) }
        }
        return device
    }
    throw SystemCallFailed(call: "LOOP_CONFIGURE", errno: EBUSY)
}

/// Makes a file system of `kind` on `device`.
func makeFileSystem(_ kind: FileSystemKind, on device: String) throws {
    switch kind {
    case .ext4: try runTool("mkfs.ext4", ["-q", "-F", "-E", "nodiscard", device])
    case .xfs: try runTool("mkfs.xfs", ["-q", "-f", "-K", "-m", "reflink=1", device])
    }
}

/// Mounts `device` at `path` (created if missing) with mount(2).
func mount(_ kind: FileSystemKind, _ device: String, at path: String, options: [String], teardown: TeardownStack) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    guard Glibc.mount(device, path, kind.rawValue, 0, options.joined(separator: ",")) == 0 else {
        throw SystemCallFailed(call: "mount -t \(kind) -o \(options.joined(separator: ",")) \(device) \(path)", errno: errno)
    }
    teardown.push(.unmount(path))
}

/// Waits (up to `seconds`) until no file system holds `device` anywhere: an exclusive open of a
/// block device fails with EBUSY while any mount namespace still has it mounted. A process that
/// unshares its mount namespace (`unshare -m`, as ChildProcessTests does) copies every mount of
/// the moment, and its copy keeps the file system alive after our umount: until it goes, the
/// image is not cleanly unmounted, and fsck would judge a live file system.
func waitUntilReleased(_ device: String, seconds: Double) -> Bool {
    let deadline = monotonicNow() + UInt64(seconds * 1e9)
    while true {
        let fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            return true
        }
        if errno != EBUSY || monotonicNow() > deadline { return errno != EBUSY }
        usleep(20_000)
    }
}

/// A sparse file of `size` bytes.
func makeSparseFile(_ path: String, size: Int) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw CommandFailed(command: "open \(path)", status: errno, output: String(cString: strerror(errno))) }
    defer { close(fd) }
    guard ftruncate(fd, off_t(size)) == 0 else {
        throw CommandFailed(command: "ftruncate \(path)", status: errno, output: String(cString: strerror(errno)))
    }
}

/// A scratch directory for loop images and mount points, named after this process, with what a
/// killed earlier run left behind (mounts, loop devices, directories) undone first.
func makeLoopScratch(label: String) throws -> String {
    removeStaleLoopScratch()
    var template = Array("/tmp/\(loopScratchPrefix)\(getpid())-\(label)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    guard let made else { throw CommandFailed(command: "mkdtemp", status: errno, output: String(cString: strerror(errno))) }
    return String(cString: made)
}

let loopScratchPrefix = "localstorage-loop-"

/// Undoes what test processes that died without cleaning up left under /tmp: only directories
/// with this suite's prefix whose process is gone.
func removeStaleLoopScratch() {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
    for entry in entries where entry.hasPrefix(loopScratchPrefix) {
        guard let pid = Int32(entry.dropFirst(loopScratchPrefix.count).prefix { $0 != "-" }),
            pid != getpid(), kill(pid, 0) != 0 && errno == ESRCH
        else { continue }
        let directory = "/tmp/" + entry
        // Inner mounts hold loop devices over files on outer mounts: a few rounds of unmounting
        // everything below the directory, then detaching every loop device backed below it.
        for _ in 0..<3 {
            let mounts = mountPoints(under: directory)
            let devices = loopDevices(backedUnder: directory)
            if mounts.isEmpty && devices.isEmpty { break }
            for path in mounts { _ = try? runTool("umount", [path], check: false) }
            for device in devices { _ = try? runTool("losetup", ["-d", device], check: false) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Mount points below `directory`, deepest first.
func mountPoints(under directory: String) -> [String] {
    ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "")
        .split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
        .filter { $0.hasPrefix(directory + "/") }
        .sorted { $0.count > $1.count }
}

/// Loop devices whose backing file lies under `directory`, in device order.
func loopDevices(backedUnder directory: String) -> [String] {
    let blocks = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []
    return blocks.filter { $0.hasPrefix("loop") }.sorted().compactMap { block in
        guard let backing = try? String(contentsOfFile: "/sys/block/\(block)/loop/backing_file", encoding: .utf8),
            backing.hasPrefix(directory + "/")
        else { return nil }
        return "/dev/" + block
    }
}

/// An XFS file system (reflink=1) on a loop device over a sparse file in a fresh scratch
/// directory: the ground the power-loss images and the reflink tests stand on.
final class ScratchXFS {
    let directory: String
    let mountPoint: String
    let teardown = TeardownStack()

    init(label: String, size: Int) throws {
        directory = try makeLoopScratch(label: label)
        teardown.push(.remove(directory))
        mountPoint = directory + "/xfs"
        do {
            let image = directory + "/xfs.img"
            try makeSparseFile(image, size: size)
            let device = try attachLoop(image, directIO: false, teardown: teardown)
            try makeFileSystem(.xfs, on: device)
            try mount(.xfs, device, at: mountPoint, options: [], teardown: teardown)
        } catch {
            teardown.undoAll()
            throw error
        }
    }

    func at(_ relative: String) -> String { mountPoint + "/" + relative }

    func tearDown() { teardown.undoAll() }
}

/// Clones `source` into a new file `destination` with FICLONE (both on one XFS): an instant,
/// point-in-time copy. XFS takes both inodes' IOLOCK and MMAPLOCK exclusively, waits for
/// in-flight direct I/O (inode_dio_wait) and flushes the page cache before sharing the extents
/// (xfs_reflink_remap_prep, generic_remap_file_range_prep), so the copy holds every write that
/// completed before it took the locks and none that started after.
func cloneFile(_ source: String, to destination: String) throws {
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw CommandFailed(command: "open \(source)", status: errno, output: String(cString: strerror(errno))) }
    defer { close(input) }
    let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard output >= 0 else { throw CommandFailed(command: "open \(destination)", status: errno, output: String(cString: strerror(errno))) }
    defer { close(output) }
    guard CLocalStorage_ficlone(output, input) == 0 else {
        throw CommandFailed(command: "ioctl(FICLONE) \(source)", status: errno, output: String(cString: strerror(errno)))
    }
}
