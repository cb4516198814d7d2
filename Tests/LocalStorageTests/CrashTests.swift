import Foundation
import Glibc
import StorageTestSupport
import Testing

@testable import LocalStorage

/// A count from the environment (the long soak), else the CI default.
func soakCount(_ variable: String, default value: Int) -> Int {
    ProcessInfo.processInfo.environment[variable].flatMap(Int.init) ?? value
}

/// A seed from LOCALSTORAGE_SEED (to replay a failure), else a fresh one; printed either way.
func testSeed(_ label: String) -> UInt64 {
    let seed = ProcessInfo.processInfo.environment["LOCALSTORAGE_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
    print("\(label): seed \(seed) (replay with LOCALSTORAGE_SEED=\(seed))")
    return seed
}

/// Starts the helper; the caller kills or waits.
func startHelper(_ helper: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: helper)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Temp files that a reopen may legitimately leave: none but empty ones (a writer may be
/// between open and flock). Returns the offending ones.
func nonEmptyTemps(in directory: String) -> [String] {
    SelfVerifying.census(of: directory).temps.filter { name in
        var status = stat()
        return stat(directory + "/" + name, &status) == 0 && status.st_size > 0
    }
}

/// A scratch root and work directory for child writers, and the helper that runs them.
struct CrashFixture {
    let helper: String
    let scratch = Scratch()
    var root: String { scratch.at("root") }
    var work: String { scratch.at("work") }
    var directory: String { root + "/" + SelfVerifying.context }

    init() throws {
        helper = try #require(helperExecutable())
        try FileManager.default.createDirectory(atPath: scratch.at("work"), withIntermediateDirectories: true)
    }
}

/// SIGKILL at random moments while a child uploads through every path: every visible name
/// always holds a complete version, and reopening removes what the dead writer left.
@Suite(.serialized) struct CrashTests {
    static let iterations = soakCount("LOCALSTORAGE_CRASH_ITERATIONS", default: 1000)

    @Test func sigkillAtRandomMomentsNeverTearsAFile() throws {
        let fixture = try CrashFixture()
        let (helper, root, work) = (fixture.helper, fixture.root, fixture.work)
        var generator = SeededGenerator(seed: testSeed("crash"))
        let directory = fixture.directory
        var tempsLeftByKills = Set<String>(), completeSeen = 0, removedOnReopen = 0
        for iteration in 0..<Self.iterations {
            let child = try startHelper(helper, ["crash-writer", root, work, "\(generator.next())"])
            usleep(UInt32.random(in: 15_000...90_000, using: &generator))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "the writer exited by itself: it failed")
            let census = SelfVerifying.census(of: directory)
            #expect(census.torn.isEmpty, "iteration \(iteration): torn \(census.torn)")
            if !census.torn.isEmpty { break }
            completeSeen += census.complete
            tempsLeftByKills.formUnion(census.temps)
            if iteration % 20 == 19 || iteration == Self.iterations - 1 {
                let storage = try LocalStorage(storagePath: root, durability: .noSync)
                removedOnReopen += census.temps.count - SelfVerifying.census(of: directory).temps.count
                #expect(nonEmptyTemps(in: directory).isEmpty)
                for name in try storage.listStoredFiles(SelfVerifying.context) {
                    #expect(SelfVerifying.check(try storage.downloadFile(name, context: SelfVerifying.context)))
                }
            }
        }
        print(
            "crash: \(Self.iterations) kills, \(completeSeen) complete versions checked, "
                + "\(tempsLeftByKills.count) temp files left by kills, \(removedOnReopen) removed on reopen")
        // The kills must land mid-upload, or the harness proves nothing.
        #expect(!tempsLeftByKills.isEmpty)
        #expect(removedOnReopen > 0)
        #expect(completeSeen > Self.iterations)
        // After the grace period even empty orphans go: whatever is left now is removed, and
        // the count says exactly how many there were.
        sleep(UInt32(orphanGraceSeconds) + 1)
        let leftBefore = SelfVerifying.census(of: directory).temps.count
        let removed = try LocalStorage(storagePath: root, durability: .noSync, removeOrphanedTempFiles: false)
            .removeOrphanedTempFiles()
        #expect(removed == leftBefore)
        #expect(SelfVerifying.census(of: directory).temps.isEmpty)
    }

    /// The same harness catches a writer that rewrites files in place.
    @Test func naiveInPlaceWriterIsCaughtTearing() throws {
        let fixture = try CrashFixture()
        let (helper, root, work) = (fixture.helper, fixture.root, fixture.work)
        var generator = SeededGenerator(seed: testSeed("naive"))
        var caughtAt: Int?
        for iteration in 0..<300 where caughtAt == nil {
            let child = try startHelper(helper, ["crash-writer", root, work, "\(generator.next())", "naive"])
            usleep(UInt32.random(in: 15_000...90_000, using: &generator))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            if !SelfVerifying.census(of: fixture.directory).torn.isEmpty { caughtAt = iteration }
        }
        #expect(caughtAt != nil, "the harness never caught the in-place writer tearing a file")
        print("naive: torn file caught after \((caughtAt ?? -1) + 1) kills")
    }

    /// Cleanup running next to live writers never removes a temp file they are using.
    @Test func cleanupNeverRemovesALiveWritersTempFile() throws {
        let fixture = try CrashFixture()
        let (helper, root, work) = (fixture.helper, fixture.root, fixture.work)
        let storage = try LocalStorage(storagePath: root, durability: .noSync)
        let writers = try (0..<2).map { try startHelper(helper, ["crash-writer", root, work, "\($0 + 1)"]) }
        let deadline = Date().addingTimeInterval(3)
        var sweeps = 0
        while Date() < deadline {
            try storage.removeOrphanedTempFiles()
            sweeps += 1
        }
        // A writer whose temp file vanished would have failed its rename and exited.
        for writer in writers {
            #expect(writer.isRunning)
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
        }
        #expect(sweeps > 10)
        #expect(SelfVerifying.census(of: fixture.directory).torn.isEmpty)
    }
}

/// Limits and settings that are process-wide, each in a child process.
@Suite struct ChildProcessTests {
    @Test func fileSizeLimitGivesEFBIGAndKeepsTheOldVersion() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let output = try runHelper(helper, ["fsize", scratch.at("root"), scratch.at("src")])
        #expect(output.contains("ok"), "\(output)")
        #expect(output.components(separatedBy: "fileTooLarge").count - 1 == 4, "\(output)")
    }

    /// Whether this process may mount a private tmpfs (root, with `unshare -m`), asked once.
    static let privateTmpfsWorks: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null"]
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    @Test(.enabled(if: privateTmpfsWorks, "needs root and /usr/bin/unshare to mount a private 4 MiB tmpfs"))
    func fullDiskGivesENOSPCAndGivesSpaceBack() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let mountPoint = scratch.at("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = [
            "-m", "sh", "-c",
            "mount -t tmpfs -o size=4m tmpfs '\(mountPoint)' && exec '\(helper)' enospc '\(mountPoint)/root' '\(scratch.at("src"))'",
        ]
        let output = Pipe(), errors = Pipe()
        probe.standardOutput = output
        probe.standardError = errors
        try probe.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        #expect(probe.terminationStatus == 0, "\(text) \(errorText)")
        #expect(text.components(separatedBy: "noSpace").count - 1 == 4, "\(text)")
        #expect(text.contains("ok"))
    }

    @Test(arguments: [("000", "644"), ("077", "600"), ("022", "644"), ("027", "640")])
    func storedModeFollowsTheUmaskAndTempFilesArePrivate(_ mask: String, _ expected: String) throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let output = try runHelper(helper, ["modes", scratch.at("root"), mask])
        #expect(output.contains("stored=\(expected) "), "\(output)")
        #expect(output.contains("temp=600"), "\(output)")
    }

    /// 4 processes x 4 threads on 16 names: puts, gets, deletes, lists. Readers only ever see
    /// complete versions (the hammer exits non-zero otherwise); no temp file is left.
    @Test func fourProcessesOfFourThreads() throws {
        let helper = try #require(helperExecutable())
        let scratch = Scratch()
        let seconds = soakCount("LOCALSTORAGE_HAMMER_SECONDS", default: 4)
        let seed = testSeed("hammer")
        let processes = try (0..<4).map { index in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: helper)
            process.arguments = ["hammer", scratch.at("root"), "\(seconds)", "\(seed &+ UInt64(index))"]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return (process, errors)
        }
        for (process, errors) in processes {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(message)")
        }
        let census = SelfVerifying.census(of: scratch.at("root/h"))
        #expect(census.torn.isEmpty)
        #expect(census.temps.isEmpty)
    }
}
