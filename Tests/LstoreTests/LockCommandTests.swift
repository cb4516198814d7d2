// `lstore lock` holds a storage lock while its command runs: a second `lstore lock` on the same
// name either gives up after --timeout (exit 5) or waits until the first is done.
import Foundation
import Glibc
import Testing

// Skipped without the trait: the binary then only says how to build it.
@Suite(.enabled(if: Lstore.available, Lstore.skipReason))
struct LockCommandTests {
    /// A `lstore lock` whose command says "holding" on standard output, then waits for a line
    /// on its standard input before it appends "first done" to `log` and exits with 7.
    private struct Holder {
        let child: Child
        let release: CInt
        let output: CInt

        init(root: String, name: String, log: String) throws {
            let executable = try #require(Lstore.path)
            let input = try PipeEnds()
            let output = try PipeEnds()
            let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
            let script = "echo first >> \"$0\"; echo holding; read line; echo 'first done' >> \"$0\"; exit 7"
            child = try Child.spawn(
                executable, ["lock", root, name, "--", "/bin/sh", "-c", script, log],
                stdin: input.read, stdout: output.write, stderr: devNull)
            close(input.read)
            close(output.write)
            close(devNull)
            release = input.write
            self.output = output.read
        }

        /// Blocks until the command runs, that is until lstore holds the lock.
        func waitUntilHolding() throws {
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while read(output, &byte, 1) == 1 && byte != UInt8(ascii: "\n") { line.append(byte) }
            #expect(String(decoding: line, as: UTF8.self) == "holding")
        }

        /// Lets the command finish; returns lstore's status.
        func finish() -> Int32 {
            _ = write(release, "go\n", 3)
            close(release)
            close(output)
            return child.wait()
        }
    }

    @Test func aSecondLockGivesUpAfterItsTimeout() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let log = directory.at("log")
        let holder = try Holder(root: root, name: "nightly", log: log)
        try holder.waitUntilHolding()

        let started = Date()
        let second = try lstore(["lock", root, "nightly", "--timeout", "300ms", "--", "/bin/sh", "-c", "echo second >> \"$0\"", log])
        #expect(second.status == 5, "\(second.stderr)")
        #expect(second.isOneErrorLine && second.stderr.contains("gave up after 300ms"), "\(second.stderr)")
        #expect(Date().timeIntervalSince(started) >= 0.3, "it waited for its timeout")
        // --timeout 0 tries once.
        #expect(try lstore(["lock", root, "nightly", "--timeout", "0", "--", "true"]).status == 5)
        // Another name, or the same name in another context, is another lock.
        #expect(try lstore(["lock", root, "other", "--timeout", "0", "--", "true"]).status == 0)
        #expect(try lstore(["lock", root, "nightly", "--context", "elsewhere", "--timeout", "0", "--", "true"]).status == 0)

        #expect(holder.finish() == 7, "lock exits with its command's status")
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "first\nfirst done\n", "the second command never ran")
        #expect(try lstore(["lock", root, "nightly", "--timeout", "0", "--", "true"]).status == 0, "free again")
    }

    @Test func aSecondLockWaitsUntilTheFirstIsDone() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        let log = directory.at("log")
        let holder = try Holder(root: root, name: "nightly", log: log)
        try holder.waitUntilHolding()

        let executable = try #require(Lstore.path)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let second = try Child.spawn(
            executable, ["lock", root, "nightly", "--", "/bin/sh", "-c", "echo second >> \"$0\"", log],
            stdin: devNull, stdout: devNull, stderr: devNull)
        close(devNull)
        // The second waits as long as the first holds the lock...
        usleep(500_000)
        #expect(!second.hasExited, "the second lstore lock ran while the first held the lock")
        #expect(holder.finish() == 7)
        // ...and runs its command once the first is done.
        #expect(second.wait() == 0)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "first\nfirst done\nsecond\n")
    }

    @Test func statusesOfTheCommandArePassedOn() throws {
        let directory = try TempDirectory()
        let root = directory.at("root")
        #expect(try lstore(["lock", root, "n", "--", "/bin/sh", "-c", "exit 3"]).status == 3)
        #expect(try lstore(["lock", root, "n", "--", "/bin/sh", "-c", "kill -TERM $$"]).status == 128 + SIGTERM)
        let output = try lstore(["lock", root, "n", "--", "sh", "-c", "echo \"$1\"", "sh", "--not-an-option"])
        #expect(output.status == 0 && output.stdout == "--not-an-option\n", "arguments after -- are the command's")
        let missing = try lstore(["lock", root, "n", "--", "no-such-command-here"])
        #expect(missing.status == 127 && missing.isOneErrorLine)
        let notExecutable = try lstore(["lock", root, "n", "--", directory.path])
        #expect(notExecutable.status == 126 && notExecutable.isOneErrorLine, "\(notExecutable.stderr)")
    }
}
