import Foundation
import Glibc

// What every public call does around the engine: apply `fileName(for:)`, validate names before
// any syscall, and turn internal failures into `LocalStorageError`s (built only when thrown).

extension LocalStorage {
    /// Applies `fileName(for:)` and validates the name and context, before any syscall.
    func target(_ fileName: String, _ context: String, _ operation: LocalStorageError.Operation) throws -> Target {
        let name = self.fileName(for: fileName)
        if let problem = fileNameProblem(name) {
            throw LocalStorageError(invalid: problem, what: "file name", value: name, operation: operation)
        }
        try validate(context, operation)
        return Target(context: context, name: name)
    }

    /// Validates a context, before any syscall.
    func validate(_ context: String, _ operation: LocalStorageError.Operation) throws {
        if let problem = contextProblem(context) {
            throw LocalStorageError(invalid: problem, context: context, operation: operation)
        }
    }

    /// Validates a batch of names in one context.
    func targets(_ fileNames: [String], _ context: String, _ operation: LocalStorageError.Operation) throws -> [String] {
        try validate(context, operation)
        return try fileNames.map { fileName in
            let name = self.fileName(for: fileName)
            if let problem = fileNameProblem(name) {
                throw LocalStorageError(invalid: problem, what: "file name", value: name, operation: operation)
            }
            return name
        }
    }

    /// Runs an operation's body, turning internal failures into `LocalStorageError`s.
    func run<R: ~Copyable>(_ operation: LocalStorageError.Operation, _ target: Target, _ body: () throws -> R) throws -> R {
        try run(operation, target.relativePath, body)
    }

    func run<R: ~Copyable>(_ operation: LocalStorageError.Operation, _ relativePath: @autoclosure () -> String, _ body: () throws -> R)
        throws -> R
    {
        do {
            return try body()
        } catch let failure as SyscallError {
            throw LocalStorageError(failure, operation: operation, path: engine.absolutePath(relativePath()))
        } catch let failure as DurabilityUnknown {
            throw LocalStorageError(
                code: .durabilityUnknown, operation: operation, syscall: failure.failure.syscall.rawValue,
                errno: failure.failure.errno.rawValue, path: engine.absolutePath(relativePath()),
                message: "the change is visible, but \(failure.failure.syscall.rawValue) after it failed with "
                    + "\(failure.failure.errno): it may not survive a crash")
        } catch is NotARegularFile {
            throw LocalStorageError(
                code: .notARegularFile, operation: operation, path: engine.absolutePath(relativePath()),
                message: "not a regular file")
        }
    }

    /// Inspects a descriptor the caller handed in: its failure (a closed handle, say) is the
    /// caller's, reported with `code` rather than as the engine's own error.
    func callerEndpoint(
        _ fd: CInt, asDestination: Bool, failing code: LocalStorageError.Code, in operation: LocalStorageError.Operation
    ) throws -> Endpoint {
        do {
            return try Endpoint(callers: fd, asDestination: asDestination)
        } catch {
            throw LocalStorageError(
                code: code, operation: operation, syscall: error.syscall.rawValue, errno: error.errno.rawValue,
                message: "the \(asDestination ? "destination" : "source") handle cannot be inspected: \(error.errno.explanation)")
        }
    }

    /// The upload path for descriptors: files, pipes, sockets (for tests and the benchmark,
    /// with the path taken).
    func uploadStream(
        fromDescriptor sourceFD: CInt, fileName: String, context: String, direct: Bool
    ) throws -> (name: String, bytes: Int, path: TransferPath) {
        let target = try target(fileName, context, .upload)
        let source = try callerEndpoint(sourceFD, asDestination: false, failing: .sourceUnreadable, in: .upload)
        guard !source.status.isDirectory else {
            throw LocalStorageError(code: .sourceUnreadable, operation: .upload, message: "the source handle is a directory")
        }
        return try run(.upload, target) {
            do {
                let outcome = try engine.upload(from: source, as: target, direct: direct)
                return (target.name, outcome.bytes, outcome.path)
            } catch let error as SyscallError where error.errno == .badFileDescriptor {
                throw LocalStorageError(
                    code: .sourceUnreadable, operation: .upload, syscall: error.syscall.rawValue, errno: error.errno.rawValue,
                    path: engine.absolutePath(target.relativePath), message: "the source handle cannot be read")
            }
        }
    }

    /// Export with the path taken, for tests and the benchmark.
    func exportStream(_ fileName: String, context: String, toDescriptor fd: CInt) throws -> (bytes: Int, path: TransferPath) {
        let target = try target(fileName, context, .export)
        let destination = try callerEndpoint(fd, asDestination: true, failing: .destinationUnwritable, in: .export)
        return try run(.export, target) {
            do {
                return try engine.export(target, to: destination)
            } catch let error as SyscallError where error.errno == .badFileDescriptor || error.errno.rawValue == EPIPE {
                throw LocalStorageError(
                    code: .destinationUnwritable, operation: .export, syscall: error.syscall.rawValue,
                    errno: error.errno.rawValue, path: engine.absolutePath(target.relativePath),
                    message: "the destination cannot be written")
            } catch let error as SyscallError
                where [ENOSPC, EDQUOT, EFBIG].contains(error.errno.rawValue)
                && [.write, .copyFileRange, .sendfile, .splice].contains(error.syscall)
            {
                // Only the destination is written: its failure is not the stored file's.
                throw LocalStorageError(
                    code: LocalStorageError.Code(mapping: error.errno, from: error.syscall), operation: .export,
                    syscall: error.syscall.rawValue, errno: error.errno.rawValue, path: nil,
                    message: "writing to the destination (descriptor \(fd)) failed: \(error.errno.explanation)")
            }
        }
    }

    /// The upload path shared by the in-memory variants.
    func uploadBytes(_ bytes: UnsafeRawBufferPointer, fileName: String, context: String) throws -> String {
        let target = try target(fileName, context, .upload)
        return try run(.upload, target) {
            try engine.upload(bytes, as: target)
            return target.name
        }
    }
}

extension LocalStorage {
    /// `run` for object operations: format failures become `.corrupted`/`.decodingFailed`.
    func runObject<R>(_ operation: LocalStorageError.Operation, _ target: Target, _ body: () throws -> R) throws -> R {
        do {
            return try run(operation, target, body)
        } catch let error as ObjectFailure {
            throw LocalStorageError(error.failure, operation: operation, path: engine.absolutePath(target.relativePath))
        }
    }
}
