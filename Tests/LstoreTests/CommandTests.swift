// lstore's subcommands, run as a child process through pipes: what they print, what they do to
// the root, and the exit status of each kind of failure.
import Foundation
import Glibc
import LocalStorage
import Testing

// Skipped without the trait: the binary then only says how to build it.
@Suite(.enabled(if: Lstore.available, Lstore.skipReason))
struct CommandTests {
    /// A root with three files in "c" (sizes 5, 1000, 0), one in the root and one in "c/sub".
    private func populated() throws -> (TempDirectory, String) {
        let directory = try TempDirectory()
        let root = directory.at("root")
        #expect(try lstore(["put", root, "c", "beta"], input: Array("hello".utf8)).status == 0)
        #expect(try lstore(["put", root, "c", "alpha"], input: [UInt8](repeating: 7, count: 1000)).status == 0)
        #expect(try lstore(["put", root, "c", "empty"], input: []).status == 0)
        #expect(try lstore(["put", root, ".", "top"], input: Array("top".utf8)).status == 0)
        #expect(try lstore(["put", root, "c/sub", "deep"], input: Array("deeper".utf8)).status == 0)
        return (directory, root)
    }

    @Test func putAndGetRoundTripThroughPipesAndFiles() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let put = try lstore(["put", root, "ctx", "blob"], input: content)
        #expect(put.status == 0 && put.stdout.isEmpty)
        // Nothing on standard error when it is not a terminal: no progress line, no noise.
        #expect(put.stderr.isEmpty)
        let get = try lstore(["get", root, "ctx", "blob"])
        #expect(get.status == 0 && get.stderr.isEmpty)
        #expect(get.stdoutBytes == content)
        let copy = directory.at("copy")
        let fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        let toFile = try lstore(["get", root, "ctx", "blob"], stdoutFD: fd)
        close(fd)
        #expect(toFile.status == 0)
        #expect(FileManager.default.contents(atPath: copy) == Data(content))

        // From a file argument, replacing the previous version.
        let source = directory.at("source")
        #expect(FileManager.default.createFile(atPath: source, contents: Data("second version".utf8)))
        #expect(try lstore(["put", root, "ctx", "blob", source]).status == 0)
        #expect(try lstore(["get", root, "ctx", "blob"]).stdout == "second version")
        #expect(FileManager.default.fileExists(atPath: source), "put copies; mv moves")
    }

    @Test func lsListsNamesLongAndJSON() throws {
        let (directory, root) = try populated()
        _ = directory
        let names = try lstore(["ls", root, "c"])
        #expect(names.status == 0)
        #expect(names.lines == ["alpha", "beta", "empty"])
        #expect(try lstore(["ls", root]).lines == ["top"])
        #expect(try lstore(["ls", root, "missing"]).lines == [])

        let long = try lstore(["ls", "-l", root, "c"])
        #expect(long.status == 0)
        let rows = long.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.map(\.first) == ["1000", "5", "0"])
        #expect(rows.map(\.last) == ["alpha", "beta", "empty"])
        // size, date, time, date, time, name
        #expect(rows.allSatisfy { $0.count == 6 })

        let json = try lstore(["ls", "--json", root, "c"])
        #expect(json.status == 0)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String } == ["alpha", "beta", "empty"])
        #expect(entries.map { $0["size"] as? Int } == [1000, 5, 0])
        for entry in entries {
            let modified = try #require(entry["modified"] as? String)
            #expect(try Date(modified, strategy: .iso8601) <= Date())
            #expect(entry["lastUsed"] is String)
        }
    }

    @Test func infoShowsOneFile() throws {
        let (directory, root) = try populated()
        _ = directory
        let info = try lstore(["info", root, "c", "alpha"])
        #expect(info.status == 0)
        #expect(info.lines.contains("size:      1000 bytes (1000 B)"))
        #expect(info.lines.contains("name:      alpha"))
        let json = try lstore(["info", "--json", root, ".", "top"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["size"] as? Int == 3)
        #expect(object["context"] as? String == "")
        #expect((object["path"] as? String)?.hasSuffix("/root/top") == true)
    }

    @Test func duCountsEveryContextAndTheTotal() throws {
        let (directory, root) = try populated()
        _ = directory
        let du = try lstore(["du", root])
        #expect(du.status == 0)
        let rows = du.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows == [["3", "1", "."], ["1005", "3", "c"], ["6", "1", "c/sub"], ["1014", "5", "total"]])
        let summary = try lstore(["du", "-s", root])
        #expect(summary.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true) } == [["1014", "5", "total"]])

        let json = try lstore(["du", "--json", root])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let contexts = try #require(document["contexts"] as? [[String: Any]])
        #expect(contexts.map { $0["context"] as? String } == ["", "c", "c/sub"])
        #expect(contexts.map { $0["bytes"] as? Int } == [3, 1005, 6])
        let total = try #require(document["total"] as? [String: Any])
        #expect(total["files"] as? Int == 5 && total["bytes"] as? Int == 1014)
    }

    @Test func scansNeverLeaveTheRoot() throws {
        let (directory, root) = try populated()
        // A symlink inside the root to a directory outside it, which holds files.
        let outside = directory.at("outside")
        try FileManager.default.createDirectory(atPath: outside + "/inner", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: outside + "/inner/secret", contents: Data("x".utf8)))
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: outside)
        let du = try lstore(["du", root])
        #expect(du.status == 0)
        #expect(du.lines.map { $0.split(separator: " ").last.map(String.init) } == [".", "c", "c/sub", "total"])
        #expect(try lstore(["verify", root]).lines.last?.hasPrefix("checked 5 files") == true)
        for context in ["link", "link/inner", "../outside", "c/../..", "/tmp"] {
            let output = try lstore(["verify", root, context])
            #expect(output.status == 3, "\(context): \(output.stderr)")
            #expect(output.isOneErrorLine && output.stdout.isEmpty, "\(context): \(output.stderr)")
        }
    }

    @Test func rmRemovesAndReportsWhatIsMissing() throws {
        let (directory, root) = try populated()
        _ = directory
        let removed = try lstore(["rm", root, "c", "alpha", "beta"])
        #expect(removed.status == 0 && removed.stderr.isEmpty)
        #expect(try lstore(["ls", root, "c"]).lines == ["empty"])
        let missing = try lstore(["rm", root, "c", "alpha", "empty"])
        #expect(missing.status == 2)
        #expect(missing.isOneErrorLine, "\(missing.stderr)")
        #expect(try lstore(["ls", root, "c"]).lines == [], "every name is tried")
        #expect(try lstore(["rm", "-f", root, "c", "alpha"]).status == 0)
    }

    @Test func mvMovesAFileIn() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let source = directory.at("incoming")
        #expect(FileManager.default.createFile(atPath: source, contents: Data("moved content".utf8)))
        let moved = try lstore(["mv", root, "in", "file", source])
        #expect(moved.status == 0 && moved.stderr.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: source))
        #expect(try lstore(["get", root, "in", "file"]).stdout == "moved content")
        let missing = try lstore(["mv", root, "in", "file", directory.at("nothing")])
        #expect(missing.status == 2 && missing.isOneErrorLine)
    }

    @Test func notFoundExitsWithTwo() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        #expect(try lstore(["put", root, "c", "present"], input: [1]).status == 0)
        for arguments in [
            ["get", root, "c", "absent"], ["info", root, "c", "absent"], ["get", root, "nocontext", "x"],
            ["ls", directory.at("no-root")], ["du", directory.at("no-root")], ["put", root, "c", "x", directory.at("no-file")],
        ] {
            let output = try lstore(arguments)
            #expect(output.status == 2, "\(arguments): \(output.stderr)")
            #expect(output.isOneErrorLine, "\(arguments): \(output.stderr)")
            #expect(output.stdout.isEmpty)
        }
        // A command that only reads does not create a root that is not there.
        #expect(!FileManager.default.fileExists(atPath: directory.at("no-root")))
    }

    @Test func invalidNamesExitWithThree() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        for arguments in [
            ["put", root, "c", "a/b"], ["put", root, "../escape", "x"], ["put", root, "c", ".ls-reserved"],
            ["get", root, "c", ".."], ["ls", root, "/absolute"], ["info", root, "c", String(repeating: "n", count: 300)],
        ] {
            let output = try lstore(arguments, input: [1, 2, 3])
            #expect(output.status == 3, "\(arguments): \(output.stderr)")
            #expect(output.isOneErrorLine, "\(arguments): \(output.stderr)")
        }
        // A symlink planted as a context is refused, not followed.
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: directory.path)
        let symlink = try lstore(["put", root, "link", "x"], input: [1])
        #expect(symlink.status == 3 && symlink.isOneErrorLine, "\(symlink.stderr)")
    }

    @Test func usageErrorsExitWithSixtyFour() throws {
        let directory = try TempDirectory()
        for arguments in [
            ["put"], ["nosuchcommand"], ["prune", directory.path], ["prune", directory.path, "--max-size", "10X"],
            ["prune", directory.path, "--max-age", "soon"], ["lock", directory.path, "name"], ["ls", "--bogus", directory.path],
        ] {
            let output = try lstore(arguments)
            #expect(output.status == 64, "\(arguments): \(output.stderr)")
            #expect(output.isOneErrorLine, "\(arguments): \(output.stderr)")
        }
        let badSize = try lstore(["prune", directory.path, "--max-size", "10X"])
        #expect(badSize.stderr.contains("invalid size '10X'"))
    }

    @Test func ioFailuresExitWithOne() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let content = [UInt8](repeating: 9, count: 1 << 20)
        #expect(try lstore(["put", root, "c", "big"], input: content).status == 0)

        // The destination fills up: /dev/full answers ENOSPC to every write.
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(full >= 0, "/dev/full is missing")
        let toFull = try lstore(["get", root, "c", "big"], stdoutFD: full)
        close(full)
        #expect(toFull.status == 1, "\(toFull.stderr)")
        #expect(toFull.isOneErrorLine && toFull.stderr.contains("No space left"), "\(toFull.stderr)")

        // The storage's file system refuses the size (RLIMIT_FSIZE, with SIGXFSZ ignored: EFBIG).
        let executable = try #require(Lstore.path)
        let source = directory.at("source")
        #expect(FileManager.default.createFile(atPath: source, contents: Data([UInt8](repeating: 1, count: 1 << 20))))
        let err = try PipeEnds()
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let shell = try Child.spawn(
            "/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 64; exec \"$0\" put \"$1\" c big \"$2\"", executable, root, source],
            stdin: devNull, stdout: devNull, stderr: err.write)
        close(err.write)
        close(devNull)
        // (Standard output went to /dev/null: only standard error is collected.)
        let (_, stderr) = readBoth(open("/dev/null", O_RDONLY | O_CLOEXEC), err.read)
        let status = shell.wait()
        let message = String(decoding: stderr, as: UTF8.self)
        #expect(status == 1, "\(message)")
        #expect(message.hasPrefix("lstore: ") && message.contains("File too large"), "\(message)")
        // The previous version is intact.
        #expect(try lstore(["info", root, "c", "big"]).lines.contains("size:      1048576 bytes (1.0 MiB)"))
    }

    @Test func helpDocumentsTheExitStatuses() throws {
        let help = try lstore(["--help"])
        #expect(help.status == 0)
        for line in ["EXIT STATUS", "2    not found", "3    invalid input", "64   usage error", "5    lock --timeout"] {
            #expect(help.stdout.contains(line), "\(line)")
        }
        for command in ["put", "get", "ls", "rm", "info", "du", "prune", "verify", "mv", "lock"] {
            #expect(try lstore([command, "--help"]).status == 0, "\(command)")
        }
    }
}
