import Foundation
import Glibc
import StorageTestSupport
import Testing

@testable import LocalStorage

let straceBinary: String? = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Kills and errors injected by strace at the Nth call of a syscall, over a child that uploads
/// through every path (`StorageTestHelper sequence`), for every N the sequence reaches.
@Suite(.serialized) struct StraceTests {
    static let syscalls = ["write", "fsync", "renameat", "copy_file_range", "fallocate", "flock"]

    /// Runs the sequence under strace with `inject`; returns (exit status or signal, output).
    static func run(_ inject: String, root: String, work: String) throws -> (signalled: Bool, status: Int32, output: String) {
        let helper = try #require(helperExecutable())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(straceBinary))
        process.arguments = ["-f", "-qq", "-o", "/dev/null", "-e", "inject=\(inject)", helper, "sequence", root, work, "7"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text =
            String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            + String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (
            process.terminationReason == .uncaughtSignal || process.terminationStatus == 128 + SIGKILL,
            process.terminationStatus, text
        )
    }

    @Test(.enabled(if: straceBinary != nil, "strace is not installed (CI installs it)"), arguments: syscalls)
    func killAtEveryCall(_ syscall: String) throws {
        let scratch = Scratch()
        let root = scratch.at("root"), work = scratch.at("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var kills = 0
        for n in 1...200 {
            let result = try Self.run("\(syscall):signal=KILL:when=\(n)", root: root, work: work)
            let census = SelfVerifying.census(of: root + "/" + SelfVerifying.context)
            #expect(census.torn.isEmpty, "\(syscall) #\(n): torn \(census.torn)")
            _ = try LocalStorage(storagePath: root, durability: .noSync)  // reopen: removes orphans
            #expect(nonEmptyTemps(in: root + "/" + SelfVerifying.context).isEmpty, "\(syscall) #\(n)")
            if !result.signalled {
                #expect(result.status == 0 && result.output.contains("done failures=0"), "\(syscall) #\(n): \(result.output)")
                break
            }
            kills += 1
        }
        print("strace kill \(syscall): \(kills) kill points")
        #expect(kills > 0, "strace never reached a \(syscall) call")
    }

    @Test(.enabled(if: straceBinary != nil, "strace is not installed (CI installs it)"), arguments: syscalls)
    func eioAtEveryCall(_ syscall: String) throws {
        let scratch = Scratch()
        let root = scratch.at("root"), work = scratch.at("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var failures = 0, engineErrors = 0
        for n in 1...200 {
            let result = try Self.run("\(syscall):error=EIO:when=\(n)", root: root, work: work)
            // The helper itself checks that each failure left complete versions; it exits 2 on
            // any violation, and the injected EIO must surface as an error, not be swallowed.
            #expect(!result.signalled && result.status == 0, "\(syscall) #\(n): \(result.output)")
            #expect(SelfVerifying.census(of: root + "/" + SelfVerifying.context).torn.isEmpty)
            #expect(SelfVerifying.census(of: root + "/" + SelfVerifying.context).temps.isEmpty, "\(syscall) #\(n)")
            if result.output.contains("done failures=0") { break }
            failures += 1
            if result.output.split(separator: "\n").contains(where: { $0.hasPrefix("failed ") }) { engineErrors += 1 }
        }
        print("strace EIO \(syscall): \(failures) failure points, \(engineErrors) surfaced as LocalStorageError")
        #expect(engineErrors > 0, "no injected EIO on \(syscall) ever surfaced from the engine")
    }
}
