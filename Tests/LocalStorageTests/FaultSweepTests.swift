// An SQLite-style I/O-error sweep: every public operation, every syscall it makes, every call
// index of that syscall, a set of errnos, EINTR and short counts, injected one at a time through
// the task-local `FaultInjector`. After each injected fault:
//
// - EINTR and short counts are invisible: the operation succeeds and the result is byte-exact;
// - any other failure surfaces as a `LocalStorageError` naming the injected syscall and errno,
//   with `Code(mapping:from:)` of that errno (or the documented code of its own), and the stored
//   state is exactly as before, with no temp file left; no false success;
// - a failure after the rename (closing the renamed temp file, fsync of the directory) is
//   `.durabilityUnknown` and the new content is visible;
// - a failed fsync of the file is never followed by the rename (more generally: no failure is
//   followed by a rename);
// - the same storage then performs the same operation correctly.
//
// Each operation's expected syscall sequence is written out below (`SweepOperation.steps`), with
// what a failure at each step must lead to; `inventory` checks it against what a clean run
// really calls, so a new syscall in the engine fails the sweep until it is classified here.
#if ENABLE_MOCKING
import CLocalStorage
import Foundation
import Glibc
import Testing

@testable import LocalStorage

// MARK: - The sweep

@Suite struct FaultSweepTests {
    /// The errnos injected at every call site. EPERM also exercises the one errno-specific
    /// tolerance (FICLONE answering EPERM means "no reflink here", not an error).
    static let errnos: [CInt] = [ENOSPC, EIO, EDQUOT, EFBIG, EACCES, EROFS, EPERM, ENOMEM]

    /// Short counts: every call to a transfer syscall moves at most this many bytes.
    static let shortCounts = [1, 7, 4093, 65537]

    /// The transfer syscalls `FaultInjector.Fault.shortCount` applies to.
    static let transferSyscalls: Set<Syscall> = [.read, .pread, .write, .copyFileRange, .sendfile, .splice]

    /// Errnos with which each kernel-side path may be refused; the engine must fall back.
    static let refusals: [Syscall: [CInt]] = [
        .ficlone: [EOPNOTSUPP, EXDEV, EINVAL, ENOSYS, ENOTTY, EBADF],
        .copyFileRange: [EOPNOTSUPP, EXDEV, EINVAL, ENOSYS, EBADF],
        .sendfile: [EOPNOTSUPP, EXDEV, EINVAL, ENOSYS],
        .splice: [EOPNOTSUPP, EXDEV, EINVAL, ENOSYS],
        .fallocate: [EOPNOTSUPP, EINVAL, ENOSYS],
        .openat2: [ENOSYS, EPERM],
    ]

    /// A clean run makes exactly the calls `steps` lists, and succeeds byte-exact.
    @Test(arguments: SweepOperation.allCases)
    func inventory(_ op: SweepOperation) throws {
        let fixture = try SweepFixture(op)
        try fixture.prepare()
        let injector = FaultInjector(op.baseRules)
        let observed = try injector.run { try fixture.execute() }
        fixture.checkSucceeded(observed, label: "\(op) clean run", sourceRemains: false)
        fixture.finish()
        for syscall in Syscall.allCases {
            let expected = op.steps.filter { $0.syscall == syscall }.count
            #expect(
                injector.calls(to: syscall) == expected,
                "\(op): \(syscall.rawValue) called \(injector.calls(to: syscall)) times, the sweep expects \(expected)")
        }
        let sites = op.sites
        let shortPairs = sites.map(\.step.syscall).filter(Self.transferSyscalls.contains).uniqued().count
        let fallbacks = sites.map { Self.refusals[$0.step.syscall]?.count ?? 0 }.reduce(0, +)
        print(
            "FaultSweep \(op): \(sites.count) call sites; \(sites.count * Self.errnos.count) errno, \(sites.count) EINTR, "
                + "\(shortPairs * Self.shortCounts.count) short-count, \(fallbacks) refusal cases")
    }

    /// Every errno at every call site.
    @Test(arguments: SweepOperation.allCases)
    func errnoSweep(_ op: SweepOperation) throws {
        var cases = 0
        for site in op.sites {
            for code in Self.errnos {
                try runFault(op, site, code)
                cases += 1
            }
        }
        print("FaultSweep \(op): \(cases) errno cases ran")
    }

    /// EINTR once at every call site: retried (or, for close, harmless), byte-exact.
    @Test(arguments: SweepOperation.allCases)
    func interruptSweep(_ op: SweepOperation) throws {
        var cases = 0
        for site in op.sites {
            let label = "\(op) \(site.label) EINTR"
            let fixture = try SweepFixture(op)
            try fixture.prepare()
            let injector = FaultInjector(
                [.init(syscall: site.step.syscall, call: site.call, repeats: false, fault: .fail(EINTR))] + op.baseRules)
            let outcome = injector.run { Result { try fixture.execute() } }
            #expect(injector.calls(to: site.step.syscall) >= site.call, "\(label): the call was never reached")
            switch outcome {
            case .success(let observed): fixture.checkSucceeded(observed, label: label, sourceRemains: false)
            case .failure(let error): Issue.record("\(label): EINTR was not retried: \(error)")
            }
            fixture.finish()
            cases += 1
        }
        print("FaultSweep \(op): \(cases) EINTR cases ran")
    }

    /// Every transfer syscall the operation makes moves at most k bytes per call, on every call.
    @Test(arguments: SweepOperation.allCases)
    func shortCountSweep(_ op: SweepOperation) throws {
        var cases = 0
        let syscalls = op.steps.map(\.syscall).filter(Self.transferSyscalls.contains).uniqued()
        for syscall in syscalls {
            for limit in Self.shortCounts {
                let label = "\(op) \(syscall.rawValue) short count \(limit)"
                // One byte at a time over 2.5 MiB would take minutes in a debug build.
                let fixture = try SweepFixture(op, small: limit < 4093)
                try fixture.prepare()
                let injector = FaultInjector([.init(syscall: syscall, call: 1, repeats: true, fault: .shortCount(limit))] + op.baseRules)
                let outcome = injector.run { Result { try fixture.execute() } }
                switch outcome {
                case .success(let observed): fixture.checkSucceeded(observed, label: label, sourceRemains: false)
                case .failure(let error): Issue.record("\(label): a short count was not retried: \(error)")
                }
                // The limit really applied: k bytes per call at most.
                let moved = injector.bytesMoved(by: syscall)
                #expect(
                    moved > 0 && injector.calls(to: syscall) >= moved / limit,
                    "\(label): \(injector.calls(to: syscall)) calls moved \(moved) bytes")
                fixture.finish()
                cases += 1
            }
        }
        print("FaultSweep \(op): \(cases) short-count cases ran")
    }

    /// The kernel refusing a fast path (reflink, copy_file_range, sendfile, splice, fallocate,
    /// openat2) at any call: the engine falls back, byte-exact.
    @Test(arguments: SweepOperation.allCases)
    func refusalSweep(_ op: SweepOperation) throws {
        var cases = 0
        for site in op.sites {
            for code in Self.refusals[site.step.syscall] ?? [] {
                let label = "\(op) \(site.label) \(Errno(rawValue: code).name)"
                let fixture = try SweepFixture(op)
                try fixture.prepare()
                let injector = FaultInjector(
                    [.init(syscall: site.step.syscall, call: site.call, repeats: false, fault: .fail(code))] + op.baseRules)
                let outcome = injector.run { Result { try fixture.execute() } }
                #expect(injector.calls(to: site.step.syscall) >= site.call, "\(label): the call was never reached")
                switch outcome {
                case .success(let observed): fixture.checkSucceeded(observed, label: label, sourceRemains: false)
                case .failure(let error): Issue.record("\(label): no fallback: \(error)")
                }
                fixture.finish()
                try fixture.rerun(label: label)
                cases += 1
            }
        }
        print("FaultSweep \(op): \(cases) refusal cases ran")
    }

    /// A failure while the temp file exists, and then the cleanup's unlinkat fails too: the
    /// original error is reported, not the cleanup's. With EIO the temp file legitimately stays
    /// (unlocked, so orphan cleanup collects it); EINTR must be retried, leaving nothing.
    @Test(arguments: SweepOperation.allCases.filter(\.replacesAtomically))
    func cleanupFailureSweep(_ op: SweepOperation) throws {
        var cases = 0
        let steps = op.steps
        guard let created = op.tempCreationIndex, let renamed = steps.indices.last(where: { steps[$0].syscall == .renameat })
        else {
            Issue.record("\(op): no temp file creation or rename in its steps")
            return
        }
        for site in op.sites where site.index > created && site.index <= renamed && site.step.expect == .fails {
            for cleanupErrno in [EIO, EINTR] {
                let label = "\(op) \(site.label) EIO, then cleanup unlinkat \(Errno(rawValue: cleanupErrno).name)"
                let fixture = try SweepFixture(op)
                try fixture.prepare()
                let injector = FaultInjector(
                    [
                        .init(syscall: site.step.syscall, call: site.call, repeats: false, fault: .fail(EIO)),
                        .init(syscall: .unlinkat, call: 1, repeats: false, fault: .fail(cleanupErrno)),
                    ] + op.baseRules)
                let outcome = injector.run { Result { try fixture.execute() } }
                switch outcome {
                case .success:
                    Issue.record("\(label): false success")
                case .failure(let error):
                    fixture.checkError(error, code: .ioError, syscall: site.step.syscall, errno: EIO, site: site, label: label)
                    fixture.checkUnchanged(label: label, ignoringTemps: true)
                }
                #expect(injector.calls(to: .unlinkat) >= 1, "\(label): no cleanup was attempted")
                let leftovers = fixture.leftoverTemps()
                if cleanupErrno == EINTR {
                    #expect(leftovers.isEmpty, "\(label): the interrupted cleanup was not retried: \(leftovers)")
                } else {
                    #expect(leftovers.count == 1, "\(label): expected the one temp file cleanup could not remove: \(leftovers)")
                    if let temp = leftovers.first, let size = fixture.size(ofRootRelative: temp), size > 0 {
                        // Not locked any more: orphan cleanup takes it (an empty one only after the grace
                        // period). A child process spawned meanwhile by another test holds a copy of the
                        // temp file's descriptor, and so its lock, until it execs: allow for that window.
                        var removed = 0
                        let deadline = Date().addingTimeInterval(5)
                        repeat {
                            removed += try fixture.storage.removeOrphanedTempFiles()
                            if removed == 0 { usleep(10_000) }
                        } while removed == 0 && Date() < deadline
                        #expect(removed == 1, "\(label): orphan cleanup left \(temp)")
                        #expect(fixture.leftoverTemps().isEmpty, "\(label)")
                    }
                }
                // What a later orphan cleanup does, before the next run.
                for temp in fixture.leftoverTemps() { try? FileManager.default.removeItem(atPath: fixture.root + "/" + temp) }
                fixture.finish()
                try fixture.rerun(label: label)
                cases += 1
            }
        }
        #expect(cases > 0, "\(op): no call site while a temp file exists")
        print("FaultSweep \(op): \(cases) cleanup-failure cases ran")
    }

    /// One errno at one call site, checked against the site's expectation.
    private func runFault(_ op: SweepOperation, _ site: SweepSite, _ code: CInt) throws {
        let syscall = site.step.syscall
        // A failed lock of the source sends a move down the copy path, the very path
        // moveCrossDevice forces with an EXDEV on the first rename, which would then hit the
        // copy's own rename: that case is the copy path, swept by the rest of this operation.
        if op == .moveCrossDevice && syscall == .flock && site.call == 1 { return }
        let label = "\(op) \(site.label) \(Errno(rawValue: code).name)"
        let fixture = try SweepFixture(op)
        try fixture.prepare()
        let injector = FaultInjector([.init(syscall: syscall, call: site.call, repeats: false, fault: .fail(code))] + op.baseRules)
        let outcome = injector.run { Result { try fixture.execute() } }
        #expect(injector.calls(to: syscall) >= site.call, "\(label): the call was never reached")

        var expectation = site.step.expect
        if syscall == .ficlone && code == EPERM { expectation = .tolerated }  // "no reflink here"
        // EPERM from openat2 is a seccomp filter's answer: the component walk takes over.
        if syscall == .openat2 && code == EPERM { expectation = .tolerated }
        // A failure tolerated by a fallback (not by the step itself) changes nothing: the
        // move completes and consumes its source.
        let sourceRemains =
            expectation == .tolerated && site.step.expect != .tolerated
            ? false : op.sourceRemains(afterFailureAt: site.index)

        switch (expectation, outcome) {
        case (.tolerated, .success(let observed)):
            fixture.checkSucceeded(observed, label: label, sourceRemains: sourceRemains)
        case (.tolerated, .failure(let error)):
            Issue.record("\(label): this failure is harmless and must be tolerated, got \(error)")
        case (.fails, .failure(let error)), (.failsAs, .failure(let error)):
            var expectedCode = LocalStorageError.Code(mapping: Errno(rawValue: code), from: syscall)
            if case .failsAs(let special) = expectation { expectedCode = special }
            fixture.checkError(error, code: expectedCode, syscall: syscall, errno: code, site: site, label: label)
            fixture.checkUnchanged(label: label)
            // No rename after a failure: in particular a failed fsync of the file is never
            // followed by the rename.
            let renames = site.renamesBefore + (syscall == .renameat ? 1 : 0)
            #expect(
                injector.calls(to: .renameat) == renames, "\(label): \(injector.calls(to: .renameat)) renameat calls, expected \(renames)")
        case (.afterCommit, .failure(let error)):
            fixture.checkError(error, code: .durabilityUnknown, syscall: syscall, errno: code, site: site, label: label)
            if let error = error as? LocalStorageError {
                #expect(error.message.contains("visible"), "\(label): the message does not say the change is visible: \(error.message)")
            }
            fixture.checkCommitted(label: label, sourceRemains: sourceRemains)
        case (_, .success):
            Issue.record("\(label): false success, expected \(expectation)")
        }
        fixture.finish()
        try fixture.rerun(label: label)
    }
}

// MARK: - Operations and their expected syscall sequences

/// What a failure injected at one step must lead to.
enum SweepExpectation: Sendable, Equatable {
    /// The operation throws `Code(mapping:from:)` of the errno, with the injected syscall and
    /// errno, and nothing changed.
    case fails
    /// As `.fails`, but with this code (a caller's handle that cannot be inspected).
    case failsAs(LocalStorageError.Code)
    /// The change is already visible: `.durabilityUnknown` with the injected syscall and errno.
    case afterCommit
    /// The engine rightly ignores this failure: the operation succeeds, byte-exact.
    case tolerated
}

/// One syscall in an operation's sequence.
struct SweepStep: Sendable {
    var syscall: Syscall
    var expect: SweepExpectation

    static func fails(_ syscall: Syscall) -> SweepStep { SweepStep(syscall: syscall, expect: .fails) }
    static func failsAs(_ syscall: Syscall, _ code: LocalStorageError.Code) -> SweepStep {
        SweepStep(syscall: syscall, expect: .failsAs(code))
    }
    static func afterCommit(_ syscall: Syscall) -> SweepStep { SweepStep(syscall: syscall, expect: .afterCommit) }
    static func tolerated(_ syscall: Syscall) -> SweepStep { SweepStep(syscall: syscall, expect: .tolerated) }
}

/// One step located in its sequence: the Nth call to its syscall.
struct SweepSite: Sendable {
    var index: Int
    var step: SweepStep
    /// 1-based index among the calls to the same syscall.
    var call: Int
    /// renameat calls before this step.
    var renamesBefore: Int

    var label: String { "\(step.syscall.rawValue)#\(call)" }
}

enum SweepOperation: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case uploadMemory, uploadMemoryFileSync, uploadMemoryNoSync, uploadMemoryRoot, uploadMemoryNewContext
    case uploadHandle, uploadHandleFileSync, uploadHandleDirect, uploadHandleSendfile, uploadPipeDirect, uploadSocketDirect
    case fileWriter, fileWriterFileSync
    case move, moveFileSync, moveCrossDevice
    case download, downloadMapped, openReader, openHandle, exportToFile, exportToPipe, exportToSocket
    case delete, deleteFileSync, list, exists, existsInRoot

    var testDescription: String { rawValue }

    enum Kind { case upload, move, read, delete, list, exists }

    var kind: Kind {
        switch self {
        case .move, .moveFileSync, .moveCrossDevice: .move
        case .download, .downloadMapped, .openReader, .openHandle, .exportToFile, .exportToPipe, .exportToSocket: .read
        case .delete, .deleteFileSync: .delete
        case .list: .list
        case .exists, .existsInRoot: .exists
        default: .upload
        }
    }

    var durability: Durability {
        switch self {
        case .uploadMemoryFileSync, .uploadHandleFileSync, .fileWriterFileSync, .moveFileSync, .deleteFileSync: .fileSync
        case .uploadMemoryNoSync: .noSync
        default: .fullSync
        }
    }

    var context: String {
        switch self {
        case .uploadMemoryRoot, .existsInRoot: ""
        case .uploadMemoryNewContext: "n/m"
        default: "c"
        }
    }

    var operation: LocalStorageError.Operation {
        switch self {
        case .move, .moveFileSync, .moveCrossDevice: .move
        case .download, .downloadMapped, .openReader: .download
        case .openHandle: .open
        case .exportToFile, .exportToPipe, .exportToSocket: .export
        case .delete, .deleteFileSync: .delete
        case .list: .list
        case .exists, .existsInRoot: .exists
        default: .upload
        }
    }

    var usesPipe: Bool { self == .uploadPipeDirect || self == .exportToPipe }
    var usesSocket: Bool { self == .uploadSocketDirect || self == .exportToSocket }

    /// Faults every run of this operation gets, after the swept one (which wins on the same call).
    var baseRules: [FaultInjector.Rule] {
        // FICLONE refused as on ext4, so the sequence is the same on file systems with reflinks.
        let noReflink = FaultInjector.Rule(syscall: .ficlone, call: 1, repeats: false, fault: .fail(EOPNOTSUPP))
        switch self {
        case .uploadHandleDirect: return [noReflink]
        case .uploadHandleSendfile:
            // copy_file_range refused for the device pair: sendfile takes over.
            return [noReflink, .init(syscall: .copyFileRange, call: 1, repeats: false, fault: .fail(EXDEV))]
        case .moveCrossDevice:
            // The rename of the source says "another file system": copy into a temp file,
            // commit, then remove the source name once checked.
            return [.init(syscall: .renameat, call: 1, repeats: false, fault: .fail(EXDEV))]
        default: return []
        }
    }

    /// Whether the operation writes through `atomicReplace` (a locked temp file, then rename).
    var replacesAtomically: Bool { tempCreationIndex != nil }

    /// The index of the step that creates the temp file (its openat, followed by flock).
    var tempCreationIndex: Int? {
        let steps = self.steps
        return steps.indices.first { $0 + 1 < steps.count && steps[$0].syscall == .openat && steps[$0 + 1].syscall == .flock }
    }

    /// For moves: whether the source is still at its path after a failure injected at the step
    /// `index`. A renaming move consumes it with the final rename (a failure before that, or at
    /// it, puts it back); a failed self-check or lock only changes the path taken. A copying
    /// move consumes it in `removeVerified` after the commit, where a failure to open the
    /// parent, capture or check the name leaves it (best effort), and a failed unlink of the
    /// captured name still consumed the path.
    func sourceRemains(afterFailureAt index: Int) -> Bool {
        let steps = self.steps
        switch self {
        case .move, .moveFileSync:
            let finalRename = steps.lastIndex { $0.syscall == .renameat } ?? 0
            return index <= finalRename && steps[index].expect != .tolerated
        case .moveCrossDevice:
            let commitRename = steps.indices.filter { steps[$0].syscall == .renameat }.dropFirst().first ?? 0
            if index <= commitRename { return steps[index].expect != .tolerated }
            // Stored, but its durability unknown: the source is kept.
            if steps[index].expect == .afterCommit { return true }
            // removeVerified: openat, renameat (capture), fstatat, then unlinkat.
            let removal = Array(steps.indices.filter { $0 > commitRename && steps[$0].expect == .tolerated }.prefix(3))
            return removal.contains(index)
        default: return false
        }
    }

    /// The syscalls a clean run makes, in order, each with what a failure there must do.
    var steps: [SweepStep] {
        let d = durability
        switch self {
        case .uploadMemory, .uploadMemoryFileSync, .uploadMemoryNoSync:
            return [.fails(.openat2)] + Self.atomicReplace([.fails(.fallocate), .fails(.write)], d, reserved: true) + [.tolerated(.close)]
        case .uploadMemoryRoot:
            // The root's own descriptor: nothing to open or close.
            return Self.atomicReplace([.fails(.fallocate), .fails(.write)], d, reserved: true)
        case .uploadMemoryNewContext:
            // openat2 finds no "n/m" (ENOENT, real), so each component is made, its parent
            // fsynced, and opened; the intermediate descriptor is closed (error ignored).
            let makeContext: [SweepStep] = [
                .fails(.openat2),
                .fails(.mkdirat), .fails(.fsync), .fails(.openat),
                .fails(.mkdirat), .fails(.fsync), .fails(.openat), .tolerated(.close),
            ]
            return makeContext + Self.atomicReplace([.fails(.fallocate), .fails(.write)], d, reserved: true) + [.tolerated(.close)]
        case .uploadHandle, .uploadHandleFileSync:
            // 2.5 MiB through one 1 MiB buffer: three reads and writes, then the read at EOF.
            let copy: [SweepStep] = [
                .fails(.read), .fails(.write), .fails(.read), .fails(.write), .fails(.read), .fails(.write), .fails(.read),
            ]
            return Self.inspectSource + Self.atomicReplace([.fails(.lseek), .fails(.fallocate)] + copy, d, reserved: true) + [
                .tolerated(.close)
            ]
        case .uploadHandleDirect:
            let fill: [SweepStep] = [
                .fails(.lseek), .fails(.ficlone), .fails(.fallocate), .fails(.copyFileRange), .fails(.copyFileRange),
            ]
            return Self.inspectSource + Self.atomicReplace(fill, d, reserved: true) + [.tolerated(.close)]
        case .uploadHandleSendfile:
            let fill: [SweepStep] = [
                .fails(.lseek), .fails(.ficlone), .fails(.fallocate), .fails(.copyFileRange), .fails(.sendfile),
                .fails(.sendfile),
            ]
            return Self.inspectSource + Self.atomicReplace(fill, d, reserved: true) + [.tolerated(.close)]
        case .uploadPipeDirect:
            // Not a regular file: no lseek, no preallocation; splice until EOF.
            return Self.inspectSource + Self.atomicReplace([.fails(.splice), .fails(.splice)], d) + [.tolerated(.close)]
        case .uploadSocketDirect:
            // socket -> pipe -> file. Growing the pipe (F_SETPIPE_SZ) and asking its size
            // (F_GETPIPE_SZ) are best effort: a failure means smaller batches. The data is all
            // queued before the upload starts: one batch in and out, then EOF; then both pipe
            // ends are closed (errors ignored).
            let fill: [SweepStep] = [
                .fails(.pipe2), .tolerated(.fcntl), .tolerated(.fcntl), .fails(.splice), .fails(.splice), .fails(.splice),
                .tolerated(.close), .tolerated(.close),
            ]
            return Self.inspectSource + Self.atomicReplace(fill, d) + [.tolerated(.close)]
        case .fileWriter, .fileWriterFileSync:
            // See `SweepFixture.writerPieces`: five writes reach the kernel.
            return [.fails(.openat2)] + Self.atomicReplace(Array(repeating: .fails(.write), count: 5), d) + [.tolerated(.close)]
        case .move, .moveFileSync:
            // Open the source and its context; is it already stored there (no: ENOENT, and any
            // failure only means "no")? Lock it without waiting (a failure: copy instead); rename
            // the source name to a temp name in the context, check it is the opened file, then
            // commit: fchmod (the source is 0600), fsync, rename into place. Before that last
            // rename every failure puts the source back.
            var steps: [SweepStep] = [
                .fails(.openat), .fails(.fstat), .fails(.openat2), .tolerated(.fstatat), .tolerated(.flock),
                .fails(.renameat), .fails(.fstatat), .fails(.fchmod),
            ]
            if d >= .fileSync { steps.append(.fails(.fsync)) }
            steps.append(.fails(.renameat))
            if d == .fullSync { steps.append(.afterCommit(.fsync)) }
            // The context's descriptor, then the source's (read-only): errors ignored.
            return steps + [.tolerated(.close), .tolerated(.close)]
        case .moveCrossDevice:
            let before: [SweepStep] = [
                .fails(.openat), .fails(.fstat), .fails(.openat2), .tolerated(.fstatat), .tolerated(.flock), .fails(.renameat),
            ]
            let copy = Self.atomicReplace([.fails(.fallocate), .fails(.copyFileRange), .fails(.copyFileRange)], d, reserved: true)
            // Then the source name is removed, best effort (the move itself succeeded): its
            // directory opened, the name captured by a rename, checked, unlinked; then the
            // descriptors are closed.
            let after: [SweepStep] = [
                .tolerated(.openat), .tolerated(.renameat), .tolerated(.fstatat), .tolerated(.unlinkat), .tolerated(.close),
                .tolerated(.close), .tolerated(.close),
            ]
            return before + copy + after
        case .download:
            return [.fails(.openat2), .fails(.fstat), .fails(.read), .tolerated(.close)]
        case .downloadMapped:
            return [.fails(.openat2), .fails(.fstat), .fails(.mmap), .tolerated(.close)]
        case .openReader:
            // fadvise is advice; 2.5 MiB in 1 MiB chunks is three preads; the reader closes on deinit.
            return [
                .fails(.openat2), .fails(.fstat), .tolerated(.fadvise), .fails(.pread), .fails(.pread), .fails(.pread),
                .tolerated(.close),
            ]
        case .openHandle:
            // The descriptor goes to the caller's FileHandle, which closes it with Foundation.
            return [.fails(.openat2), .fails(.fstat)]
        case .exportToFile:
            // The destination is inspected first (fstat, and its O_APPEND flag). The export moves
            // exactly the stored size, so no call is made to find the end of input.
            return [
                .failsAs(.fstat, .destinationUnwritable), .failsAs(.fcntl, .destinationUnwritable), .fails(.openat2), .fails(.fstat),
                .tolerated(.fadvise),
                .fails(.copyFileRange), .tolerated(.close),
            ]
        case .exportToPipe:
            // Under 1 MiB: no fadvise.
            return [
                .failsAs(.fstat, .destinationUnwritable), .failsAs(.fcntl, .destinationUnwritable), .fails(.openat2), .fails(.fstat),
                .fails(.splice), .tolerated(.close),
            ]
        case .exportToSocket:
            return [
                .failsAs(.fstat, .destinationUnwritable), .failsAs(.fcntl, .destinationUnwritable), .fails(.openat2), .fails(.fstat),
                .fails(.sendfile), .tolerated(.close),
            ]
        case .delete, .deleteFileSync:
            var steps: [SweepStep] = [.fails(.openat2), .fails(.unlinkat)]
            if d == .fullSync { steps.append(.afterCommit(.fsync)) }
            return steps + [.tolerated(.close)]
        case .list:
            return [.fails(.openat2), .fails(.getdents64), .fails(.getdents64), .tolerated(.close)]
        case .exists:
            return [.fails(.openat2), .fails(.fstat), .tolerated(.close)]
        case .existsInRoot:
            return [.fails(.fstatat)]
        }
    }

    /// fstat of the caller's handle: a failure there is `.sourceUnreadable`; then the context.
    private static let inspectSource: [SweepStep] = [.failsAs(.fstat, .sourceUnreadable), .fails(.openat2)]

    /// `Engine.store` around `fill`: the temp file is created and locked, filled, its size
    /// checked against what was preallocated (`reserved`), fchmodded, fsynced (`.fileSync` and
    /// up), renamed; then closed and the directory fsynced (`.fullSync`), both after the new
    /// content became visible.
    private static func atomicReplace(_ fill: [SweepStep], _ durability: Durability, reserved: Bool = false) -> [SweepStep] {
        var steps: [SweepStep] = [.fails(.openat), .fails(.flock)] + fill + (reserved ? [.fails(.fstat)] : []) + [.fails(.fchmod)]
        if durability >= .fileSync { steps.append(.fails(.fsync)) }
        steps += [.fails(.renameat), .afterCommit(.close)]
        if durability == .fullSync { steps.append(.afterCommit(.fsync)) }
        return steps
    }

    var sites: [SweepSite] {
        var calls: [Syscall: Int] = [:]
        var renames = 0
        return steps.enumerated().map { index, step in
            calls[step.syscall, default: 0] += 1
            defer { if step.syscall == .renameat { renames += 1 } }
            return SweepSite(index: index, step: step, call: calls[step.syscall]!, renamesBefore: renames)
        }
    }
}

// MARK: - One case's world

/// The payloads, made once.
enum SweepData {
    /// 2.5 MiB and a bit: three 1 MiB chunks for the buffered path, over the preallocation threshold.
    static let large = Data(patternBytes(count: (5 << 19) + 123, seed: 0x5eed))
    /// Fits a 1 MiB pipe, so pipe cases need no second thread.
    static let pipeSized = Data(patternBytes(count: (700 << 10) + 5, seed: 0x919e))
    /// Fits a socket's send buffer, so the whole upload source is queued before it starts.
    static let socketSized = Data(patternBytes(count: (100 << 10) + 5, seed: 0x50c))
    /// For one-byte short counts.
    static let small = Data(patternBytes(count: 6_007, seed: 0x5a11))
    /// The previous version of the target.
    static let old = Data(patternBytes(count: 4_099, seed: 0x01d))
    static let sibling = Data("sibling".utf8)
}

/// Where sweep scratch directories go: $LOCALSTORAGE_SWEEP_DIR if set; else tmpfs when there is
/// one, since every case writes and fsyncs megabytes and the faults are synthetic anyway; else /tmp.
private let sweepParent: String = {
    if let chosen = ProcessInfo.processInfo.environment["LOCALSTORAGE_SWEEP_DIR"], !chosen.isEmpty { return chosen }
    var info = stat()
    if stat("/dev/shm", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && access("/dev/shm", W_OK) == 0 { return "/dev/shm" }
    return "/tmp"
}()

/// A fresh storage with the previous version in place, fresh sources, and the checks.
final class SweepFixture {
    let op: SweepOperation
    let scratch: Scratch
    /// The storage under test.
    let storage: LocalStorage
    /// Puts the initial state in place without fsyncs; never runs under an injector.
    private let seeder: LocalStorage
    /// What the operation writes (uploads, moves) or finds stored (reads).
    let payload: Data
    private var handle: FileHandle?
    /// exportToPipe, exportToSocket: the end the test reads, and the thread emptying it (a
    /// 1-byte splice takes a whole pipe slot, so without a reader short counts would fill any pipe).
    private var pipeReadEnd: CInt = -1
    private var drain: SweepDrain?

    var root: String { scratch.at("root") }
    var directory: String { op.context.isEmpty ? root : root + "/" + op.context }
    var target: String { directory + "/f" }
    var moveSource: String { scratch.at("incoming") }
    var exportDestination: String { scratch.at("exported") }

    init(_ op: SweepOperation, small: Bool = false) throws {
        self.op = op
        scratch = Scratch(in: sweepParent)
        storage = try LocalStorage(storagePath: scratch.at("root"), durability: op.durability, fileMode: 0o644)
        seeder = try LocalStorage(
            storagePath: scratch.at("root"), durability: .noSync, fileMode: 0o644, removeOrphanedTempFiles: false)
        payload = small ? SweepData.small : op.usesPipe ? SweepData.pipeSized : op.usesSocket ? SweepData.socketSized : SweepData.large
        try seed()
    }

    deinit { finish() }

    /// The state before the operation.
    private func seed() throws {
        switch op.kind {
        case .upload, .move, .delete, .exists:
            if op == .uploadMemoryNewContext { return }
            try seeder.uploadFile(file: SweepData.old, fileName: "f", context: op.context)
            try seeder.uploadFile(file: SweepData.sibling, fileName: "a", context: op.context)
        case .read:
            try seeder.uploadFile(file: payload, fileName: "f", context: op.context)
            try seeder.uploadFile(file: SweepData.sibling, fileName: "a", context: op.context)
        case .list:
            for name in ["a", "b", "f"] { try seeder.uploadFile(file: SweepData.old, fileName: name, context: op.context) }
        }
    }

    /// Fresh sources and destinations for one run.
    func prepare() throws {
        finish()
        switch op {
        case .uploadHandle, .uploadHandleFileSync, .uploadHandleDirect, .uploadHandleSendfile:
            write(payload, to: scratch.at("source"))
            handle = FileHandle(forReadingAtPath: scratch.at("source"))
        case .uploadPipeDirect:
            let (readEnd, writeEnd) = try makePipe()
            try writeFully(writeEnd, payload)
            close(writeEnd)
            handle = FileHandle(fileDescriptor: readEnd, closeOnDealloc: true)
        case .move, .moveFileSync, .moveCrossDevice:
            write(payload, to: moveSource)
            // Not the storage's mode, so the move has to fchmod.
            #expect(chmod(moveSource, 0o600) == 0)
        case .exportToFile:
            write(Data(), to: exportDestination)
            handle = FileHandle(forWritingAtPath: exportDestination)
        case .exportToPipe:
            let (readEnd, writeEnd) = try makePipe()
            pipeReadEnd = readEnd
            drain = SweepDrain(readEnd)
            handle = FileHandle(fileDescriptor: writeEnd, closeOnDealloc: true)
        case .uploadSocketDirect:
            let (engineEnd, testEnd) = try makeSocketPair()
            // Queued in full without blocking (MSG_DONTWAIT: a payload that did not fit would
            // fail here rather than hang), then EOF.
            try payload.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let sent = send(testEnd, buffer.baseAddress! + done, buffer.count - done, CInt(MSG_DONTWAIT) | CInt(MSG_NOSIGNAL))
                    try #require(sent > 0, "the socket did not take the whole payload: errno \(errno)")
                    done += sent
                }
            }
            close(testEnd)
            handle = FileHandle(fileDescriptor: engineEnd, closeOnDealloc: true)
        case .exportToSocket:
            let (engineEnd, testEnd) = try makeSocketPair()
            pipeReadEnd = testEnd
            drain = SweepDrain(testEnd)
            handle = FileHandle(fileDescriptor: engineEnd, closeOnDealloc: true)
        default:
            break
        }
    }

    /// A pipe that holds 1 MiB.
    private func makePipe() throws -> (CInt, CInt) {
        var ends: [CInt] = [-1, -1]
        try #require(pipe(&ends) == 0)
        let capacity = CLocalStorage_fcntl_int(ends[1], CLocalStorage_F_SETPIPE_SZ, 1 << 20)
        try #require(Int(capacity) >= payload.count, "cannot grow a pipe to 1 MiB")
        return (ends[0], ends[1])
    }

    /// A connected pair of Unix stream sockets with room for the payload.
    private func makeSocketPair() throws -> (CInt, CInt) {
        var ends: [CInt] = [-1, -1]
        try #require(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &ends) == 0)
        for end in ends {
            var size: CInt = 1 << 20
            _ = setsockopt(end, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        return (ends[0], ends[1])
    }

    private func writeFully(_ fd: CInt, _ data: Data) throws {
        try data.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                try #require(written > 0)
                done += written
            }
        }
    }

    /// How `fileWriter` slices the payload: 100 bytes (buffered), 1 MiB (flushes them, then
    /// goes straight through), 300 KiB (straight), the rest but 3000 (straight), three times
    /// 1000 (buffered, flushed at the end): five writes. Small payloads go in 1000-byte pieces.
    static func writerPieces(_ count: Int) -> [Range<Int>] {
        let cuts: [Int]
        if count > 2 << 20 {
            let a = 100, b = a + (1 << 20), c = b + (300 << 10)
            cuts = [a, b, c, count - 3000, count - 2000, count - 1000, count]
        } else {
            cuts = Array(stride(from: 1000, to: count, by: 1000)) + [count]
        }
        var start = 0
        return cuts.map { end in
            defer { start = end }
            return start..<end
        }
    }

    /// Runs the operation; returns what it read, for the operations that read.
    func execute() throws -> Data? {
        let context = op.context
        switch op {
        case .uploadMemory, .uploadMemoryFileSync, .uploadMemoryNoSync, .uploadMemoryRoot, .uploadMemoryNewContext:
            let name = try storage.uploadFile(file: payload, fileName: "f", context: context)
            #expect(name == "f")
        case .uploadHandle, .uploadHandleFileSync:
            try storage.uploadFile(file: handle!, fileName: "f", context: context, directStream: false)
        case .uploadHandleDirect, .uploadHandleSendfile, .uploadPipeDirect, .uploadSocketDirect:
            try storage.uploadFile(file: handle!, fileName: "f", context: context, directStream: true)
        case .fileWriter, .fileWriterFileSync:
            let payload = self.payload
            let written = try storage.withFileWriter(fileName: "f", context: context) { writer in
                for piece in SweepFixture.writerPieces(payload.count) { try writer.write(payload[piece]) }
                return writer.bytesWritten
            }
            #expect(written == payload.count)
        case .move, .moveFileSync, .moveCrossDevice:
            try storage.uploadFile(movingFileAt: moveSource, fileName: "f", context: context)
        case .download:
            return try storage.downloadFile("f", context: context)
        case .downloadMapped:
            return try storage.downloadFile("f", context: context, mapped: true)
        case .openReader:
            let reader = try storage.openReader("f", context: context)
            #expect(reader.size == payload.count)
            var all = Data()
            try reader.forEachChunk { all.append($0) }
            return all
        case .openHandle:
            let file = try storage.getFileByHashcode("f", context: context)
            defer { try? file.close() }
            return try file.readToEnd() ?? Data()
        case .exportToFile, .exportToPipe, .exportToSocket:
            let count = try storage.downloadFile("f", context: context, to: handle!)
            #expect(count == payload.count)
        case .delete, .deleteFileSync:
            try storage.deleteFile("f", context: context)
        case .list:
            return Data(try storage.listStoredFiles(context).joined(separator: "\n").utf8)
        case .exists, .existsInRoot:
            return Data([try storage.checkIfExists("f", context: context) ? 1 : 0])
        }
        return nil
    }

    /// Closes this run's sources and destinations.
    func finish() { _ = closeAll() }

    /// Closes the handle (for a pipe: the write end, so the drain sees EOF), then the read end;
    /// returns what the drain collected.
    private func closeAll() -> Data? {
        try? handle?.close()
        handle = nil
        let drained = drain?.wait()
        drain = nil
        if pipeReadEnd >= 0 { close(pipeReadEnd) }
        pipeReadEnd = -1
        return drained
    }

    /// What an export wrote.
    private func exported() -> Data? {
        op == .exportToFile ? contents(of: exportDestination) : closeAll()
    }

    // MARK: Checks

    func leftoverTemps() -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).filter {
            $0.split(separator: "/").last?.hasPrefix(reservedTempPrefix) == true
        }
    }

    func size(ofRootRelative path: String) -> Int? {
        var info = stat()
        return stat(root + "/" + path, &info) == 0 ? Int(info.st_size) : nil
    }

    private func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    private func checkSibling(_ label: String) {
        guard op != .uploadMemoryNewContext else { return }
        let expected = op.kind == .list ? SweepData.old : SweepData.sibling
        #expect(contents(of: directory + "/a") == expected, "\(label): a neighbouring file changed")
    }

    private func checkNoTemps(_ label: String) {
        let leftovers = leftoverTemps()
        #expect(leftovers.isEmpty, "\(label): temp files left: \(leftovers)")
    }

    /// The operation succeeded: its result, byte for byte.
    func checkSucceeded(_ observed: Data?, label: String, sourceRemains: Bool) {
        switch op.kind {
        case .upload, .move:
            #expect(contents(of: target) == payload, "\(label): the stored file is not the new content")
            #expect(mode(target) == 0o644, "\(label): stored with mode \(String(mode(target) ?? 0, radix: 8))")
            if op.kind == .move { checkSource(label, remains: sourceRemains) }
        case .read:
            #expect(contents(of: target) == payload, "\(label): reading changed the stored file")
            let result = op.operation == .export ? exported() : observed
            #expect(result == payload, "\(label): read \(result?.count ?? -1) bytes, not the \(payload.count) stored")
        case .delete:
            #expect(!exists(target), "\(label): the file is still there")
        case .list:
            #expect(observed == Data("a\nb\nf".utf8), "\(label): listed \(String(decoding: observed ?? Data(), as: UTF8.self))")
        case .exists:
            #expect(observed == Data([1]), "\(label): the stored file was not found")
        }
        checkSibling(label)
        checkNoTemps(label)
    }

    /// The operation failed before changing anything.
    func checkUnchanged(label: String, ignoringTemps: Bool = false) {
        switch op.kind {
        case .upload, .move, .delete, .exists, .list:
            let previous = op == .uploadMemoryNewContext ? nil : SweepData.old
            #expect(contents(of: target) == previous, "\(label): the previous version is not intact")
            if op.kind == .move { checkSource(label, remains: true) }
        case .read:
            #expect(contents(of: target) == payload, "\(label): the stored file changed")
        }
        checkSibling(label)
        if !ignoringTemps { checkNoTemps(label) }
    }

    /// The change became visible before the failure.
    func checkCommitted(label: String, sourceRemains: Bool) {
        switch op.kind {
        case .upload, .move:
            #expect(contents(of: target) == payload, "\(label): the new content is not visible")
            if op.kind == .move { checkSource(label, remains: sourceRemains) }
        case .delete:
            #expect(!exists(target), "\(label): the file is still there")
        default:
            Issue.record("\(label): \(op) commits nothing")
        }
        checkSibling(label)
        checkNoTemps(label)
    }

    private func checkSource(_ label: String, remains: Bool) {
        if remains {
            #expect(contents(of: moveSource) == payload, "\(label): the source of the move is not intact")
        } else {
            #expect(!exists(moveSource), "\(label): the source of the move is still there")
        }
    }

    func checkError(_ error: any Error, code: LocalStorageError.Code, syscall: Syscall, errno: CInt, site: SweepSite, label: String) {
        guard let error = error as? LocalStorageError else {
            Issue.record("\(label): not a LocalStorageError: \(error)")
            return
        }
        #expect(error.code == code, "\(label): code \(error.code), expected \(code): \(error)")
        #expect(error.syscall == syscall.rawValue, "\(label): syscall \(error.syscall ?? "nil"): \(error)")
        #expect(error.errno == errno, "\(label): errno \(error.errno.map { Errno(rawValue: $0).name } ?? "nil"): \(error)")
        #expect(error.operation == op.operation, "\(label): operation \(error.operation): \(error)")
        // The caller's own handle has no path; the move's source is named by its path.
        let path: String?
        let exports: [SweepOperation] = [.exportToFile, .exportToPipe, .exportToSocket]
        let writesDestination: Set<Syscall> = [.write, .copyFileRange, .sendfile, .splice]
        if case .failsAs = site.step.expect {
            path = nil
        } else if exports.contains(op), writesDestination.contains(syscall), [ENOSPC, EDQUOT, EFBIG].contains(errno) {
            // A full destination is the destination's failure, named by its descriptor.
            path = nil
        } else if op.kind == .move && (site.index < 2 || (site.step.syscall == .renameat && site.call == 1)) {
            // Opening and inspecting the source, and the rename that takes the source name in.
            path = moveSource
        } else if op.kind == .list {
            path = directory
        } else {
            path = target
        }
        #expect(error.path == path, "\(label): path \(error.path ?? "nil"), expected \(path ?? "nil")")
    }

    /// The same storage, the state put back, fresh sources, no fault: the operation works.
    func rerun(label: String) throws {
        try seed()
        try prepare()
        let outcome = FaultInjector(op.baseRules).run { Result { try execute() } }
        switch outcome {
        case .success(let observed): checkSucceeded(observed, label: "\(label), then a clean run", sourceRemains: false)
        case .failure(let error): Issue.record("\(label): the next clean run failed: \(error)")
        }
        finish()
    }
}

/// Reads a pipe to its end on another thread.
private final class SweepDrain: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var collected = Data()  // written by the thread before `done` is signalled

    init(_ fd: CInt) {
        Thread { [self] in
            var data = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if got > 0 {
                    data.append(contentsOf: buffer[0..<got])
                } else if got == 0 || Glibc.errno != EINTR {
                    break
                }
            }
            collected = data
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return collected
    }
}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
#endif
